using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3;
using Amazon.S3.Model;
using ClusterDR.Backups;
using ClusterDR.Deis;
using ClusterDR.Tests.Fixtures;
using ICSharpCode.SharpZipLib.Tar;
using Newtonsoft.Json;
using Xunit;
using Xunit.Abstractions;

namespace ClusterDR.Tests.Deis
{
    /// <summary>
    /// A store of very many objects against a real Ceph radosgw: the objects go into the backup's payload index, not into
    /// manifest.json; every one is verified and restored; a backup whose manifest lists its objects (the older format)
    /// still restores.
    /// </summary>
    public sealed class DeisManyObjectsTests : IClassFixture<CephS3>, IDisposable
    {
        private const int Count = 20_000;
        private readonly CephS3 _ceph;
        private readonly ITestOutputHelper _log;
        private readonly string _out = TestEnv.TempDir("deis-many");
        public DeisManyObjectsTests(CephS3 ceph, ITestOutputHelper log) { _ceph = ceph; _log = log; }
        public void Dispose() { try { Directory.Delete(_out, true); } catch { } }

        private DeisS3Options S3() => new DeisS3Options
        {
            GatewayUri = _ceph.Gateway, AccessKey = CephS3.AccessKey, SecretKey = CephS3.SecretKey(), Buckets = new[] { "registry" }, Parallelism = 32,
        };

        /// <summary>Key i: a short one, every 1000th a name over 100 characters (a GNU long-name tar entry), some not ASCII.</summary>
        private static string Key(int i) => i % 1000 == 7 ? $"registry/images/{i:x5}/" + new string('ü', 60) + "/layer" : $"registry/images/{i:x5}/layer";
        private static byte[] Data(int i) => Encoding.ASCII.GetBytes($"object {i} " + new string((char)('a' + i % 26), i % 97));

        private static void Fill(AmazonS3Client s3, int count)
        {
            s3.PutBucketAsync("registry").GetAwaiter().GetResult();
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 32 }, i =>
                s3.PutObjectAsync(new PutObjectRequest { BucketName = "registry", Key = Key(i), InputStream = new MemoryStream(Data(i)), UseChunkEncoding = false }).GetAwaiter().GetResult());
        }

        private static void Wipe(AmazonS3Client s3, DeisS3Options o)
        {
            if (!(s3.ListBucketsAsync().GetAwaiter().GetResult().Buckets ?? new List<S3Bucket>()).Any(b => b.BucketName == "registry")) return;
            foreach (var page in DeisStoreBackup.List(s3, o, "registry", default).Select(x => x.Key).Chunk(1000))
                s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = "registry", Objects = page.Select(k => new KeyVersion { Key = k }).ToList() }).GetAwaiter().GetResult();
            s3.DeleteBucketAsync("registry").GetAwaiter().GetResult();
        }

        /// <summary>Key → ETag of every object of the bucket: each was one PUT, so its ETag is its content's MD5 (a listing, not 20,000 GETs).</summary>
        private static Dictionary<string, string> Held(AmazonS3Client s3, DeisS3Options o) =>
            DeisStoreBackup.List(s3, o, "registry", default).ToDictionary(x => x.Key, x => x.ETag, StringComparer.Ordinal);

        /// <summary>
        /// Rewrites a backup as a .tar.gz with <paramref name="manifest"/> first and the payload entries <paramref name="keep"/>
        /// selects, each possibly changed by <paramref name="change"/>: a damaged copy, or the same backup in an older format.
        /// </summary>
        private static string Repack(ClusterBackup from, string to, BackupManifest manifest, Func<string, bool> keep, Func<string, byte[], byte[]> change = null)
        {
            using (var file = File.Create(to))
            using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
            using (var tar = new TarOutputStream(gzip, Encoding.UTF8))
            {
                void Put(string name, byte[] data)
                {
                    var e = TarEntry.CreateTarEntry(name);
                    e.Size = data.Length;
                    e.ModTime = DateTime.UtcNow;
                    tar.PutNextEntry(e);
                    tar.Write(data, 0, data.Length);
                    tar.CloseEntry();
                }
                Put(BackupManifest.EntryName, Encoding.UTF8.GetBytes(JsonConvert.SerializeObject(manifest, Formatting.Indented)));
                using var reader = BackupArchiveReader.Open(from.Path);
                reader.ForEachEntry((name, entry, content) =>
                {
                    if (entry.IsDirectory || !keep(name)) return;
                    var ms = new MemoryStream();
                    content.CopyTo(ms);
                    Put(name, change?.Invoke(name, ms.ToArray()) ?? ms.ToArray());
                });
            }
            return to;
        }

        private static BackupManifest Copy(BackupManifest m) => JsonConvert.DeserializeObject<BackupManifest>(JsonConvert.SerializeObject(m));

        [Fact]
        public void TwentyThousandObjectsStayOutOfTheManifestEachIsVerifiedAndTheyRestore()
        {
            var o = S3();
            using var s3 = DeisStore.Client(o);
            Wipe(s3, o);
            Fill(s3, Count);
            var original = Held(s3, o);
            Assert.Equal(Count, original.Count);

            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = o, IncludeVolume = false, Directory = _out }, new RecordingContext());

            // manifest.json: the summary and the index, not 20,000 lines; the listing (Get-ClusterBackup) reads it and proves the length.
            string json = JsonConvert.SerializeObject(backup.Manifest, Formatting.Indented);
            Assert.True(json.Length < 4096, $"manifest.json is {json.Length} characters");
            Assert.Equal(new[] { DeisStore.ObjectIndexPayload }, backup.Files.Select(f => f.Path));
            Assert.Equal(PayloadIndex.FormatVersion, backup.FormatVersion);
            var listed = BackupArchiveReader.ReadListed(backup.Path);
            Assert.Equal(Count, listed.Manifest.Index.Files);
            Assert.Equal(Count.ToString(), listed.Facts["objects"]);
            var files = PayloadIndex.ReadFiles(backup.Path).Where(f => f.Path != DeisStore.ObjectIndexPayload).ToList();
            Assert.Equal(Count, files.Count);
            Assert.Equal(original.Keys.OrderBy(k => k, StringComparer.Ordinal), files.Select(f => DeisStore.TryParseArchiveName(f.Path, out _, out var k) ? k : null).OrderBy(k => k, StringComparer.Ordinal));

            var verified = BackupVerifier.Verify(backup.Path, new RecordingContext());
            Assert.True(verified.Verified);
            Assert.Contains($"{Count} file(s) listed in {DeisStore.ObjectIndexPayload}: SHA-256 match", verified.Verification);

            // One flipped byte in one object (the archive otherwise sound): Test-ClusterBackup names that object.
            string victim = files[Count / 2].Path;
            string damaged = Repack(backup, Path.Combine(_out, "damaged.tar.gz"), backup.Manifest, _ => true, (name, data) =>
            {
                if (name == victim) data[data.Length / 2] ^= 0x20;
                return data;
            });
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(damaged, new RecordingContext()));
            Assert.Equal(ErrorIds.PayloadHashMismatch, ex.ErrorId);
            Assert.Contains(victim, ex.Message);
            // A lost object, and an object the index does not list, are named too.
            string lost = Repack(backup, Path.Combine(_out, "lost.tar.gz"), backup.Manifest, name => name != victim);
            ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(lost, new RecordingContext()));
            Assert.Contains(victim, ex.Message);
            Assert.Contains(ex.ErrorId, new[] { ErrorIds.PayloadMissing, ErrorIds.UnexpectedEntry });

            Wipe(s3, o);
            var result = DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = o, RestoreVolume = false }, new RecordingContext());
            Assert.Equal(Count, result.Parts.Single(p => p.Name == "objects").Items);
            Assert.Equal(original, Held(s3, o));

            Wipe(s3, o);
        }

        [Fact]
        public void AnOlderBackupStillRestoresAndAnIndexThatDisagreesIsRefusedInOperatorTerms()
        {
            var o = S3();
            using var s3 = DeisStore.Client(o);
            Wipe(s3, o);
            Fill(s3, 50);
            var original = Held(s3, o);
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = o, IncludeVolume = false, Directory = _out }, new RecordingContext());
            Wipe(s3, o);

            // The same backup as ClusterDR wrote it before the index (every object listed in manifest.json): it still lists, verifies and restores.
            var old = Copy(backup.Manifest);
            old.FormatVersion = 1;
            old.Index = null;
            old.Files = PayloadIndex.ReadFiles(backup.Path).Where(f => f.Path != DeisStore.ObjectIndexPayload).ToList();
            string oldPath = Repack(backup, Path.Combine(_out, "old-format.tar.gz"), old, name => name != DeisStore.ObjectIndexPayload);
            Assert.Equal(50, BackupArchiveReader.ReadListed(oldPath).Files.Length);
            var result = DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = oldPath, S3 = o, RestoreVolume = false }, new RecordingContext());
            Assert.Equal(50, result.Parts.Single(p => p.Name == "objects").Items);
            Assert.Equal(original, Held(s3, o));
            Wipe(s3, o);

            // The manifest says one object more than the index lists.
            var m = Copy(backup.Manifest);
            m.Index.Files++;
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(Repack(backup, Path.Combine(_out, "count.tar.gz"), m, _ => true), new RecordingContext()));
            Assert.Equal(ErrorIds.ManifestInvalid, ex.ErrorId);
            Assert.Contains("lists 50 file(s)", ex.Message);

            // An index that names a file outside its folders: refused by line number, before any restore step.
            string bad = PayloadIndex.ReadFiles(backup.Path).First(f => f.Path != DeisStore.ObjectIndexPayload).Path;
            string escaped = Repack(backup, Path.Combine(_out, "escape.tar.gz"), backup.Manifest, _ => true, (name, data) =>
                name == DeisStore.ObjectIndexPayload ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(data).Replace("\"" + bad + "\"", "\"../" + bad + "\"")) : data);
            var m2 = Copy(backup.Manifest);
            var indexFile = m2.Files.Single(f => f.Path == DeisStore.ObjectIndexPayload);
            using (var r = BackupArchiveReader.Open(escaped))
                r.ForEachEntry((name, entry, content) =>
                {
                    if (name != DeisStore.ObjectIndexPayload) return;
                    using var h = new HashingStream(Stream.Null);
                    content.CopyTo(h);
                    indexFile.Size = h.BytesWritten;
                    indexFile.Sha256 = h.HashHex();
                });
            escaped = Repack(new ClusterBackup(escaped, m2, 0), Path.Combine(_out, "escape2.tar.gz"), m2, _ => true);
            ex = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = escaped, S3 = o, RestoreVolume = false }, new RecordingContext()));
            Assert.Equal(ErrorIds.ManifestInvalid, ex.ErrorId);
            Assert.Contains("damaged at line 1", ex.Message);
            Assert.Empty(s3.ListBucketsAsync().GetAwaiter().GetResult().Buckets ?? new List<S3Bucket>());
        }

        /// <summary>
        /// Not a timing assertion: how much memory a backup of 100,000 objects takes (CLUSTERDR_DEIS_100K=1 runs it).
        /// Reports the managed heap's peak while the backup runs and the process's peak resident set.
        /// </summary>
        [Fact]
        public void PeakMemoryOfAHundredThousandObjectBackup()
        {
            if (Environment.GetEnvironmentVariable("CLUSTERDR_DEIS_100K") != "1") return;
            const int n = 100_000;
            var o = S3();
            using var s3 = DeisStore.Client(o);
            Wipe(s3, o);
            Fill(s3, n);
            GC.Collect();
            long baseline = GC.GetTotalMemory(true), peak = 0;
            // Linux: "5" resets this process's peak resident set (VmHWM), so the peak read after is the backup's.
            try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            long hwmBefore = Hwm();
            using var done = new ManualResetEventSlim();
            var sampler = Task.Run(() =>
            {
                while (!done.Wait(20)) peak = Math.Max(peak, GC.GetTotalMemory(false));
            });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = o, IncludeVolume = false, Directory = _out }, new RecordingContext());
            done.Set();
            sampler.Wait();
            _log.WriteLine($"100,000 objects: {clock.Elapsed.TotalSeconds:0.0} s; managed heap peak {(peak - baseline) / 1048576.0:0.0} MB above the {baseline / 1048576.0:0.0} MB before; " +
                           $"process peak RSS during the backup {Hwm() / 1024.0:0.0} MB (resident {hwmBefore / 1024.0:0.0} MB when it started); manifest.json {JsonConvert.SerializeObject(backup.Manifest, Formatting.Indented).Length} characters.");
            File.WriteAllText(Path.Combine(Path.GetTempPath(), "clusterdr-deis-100k.txt"), $"{peak - baseline} {baseline} {Hwm()} {hwmBefore} {clock.Elapsed.TotalSeconds}");
            Assert.Equal(n, BackupArchiveReader.ReadListed(backup.Path).Manifest.Index.Files);
            Wipe(s3, o);
        }

        /// <summary>VmHWM of this process, in KiB.</summary>
        private static long Hwm() =>
            long.Parse(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}
