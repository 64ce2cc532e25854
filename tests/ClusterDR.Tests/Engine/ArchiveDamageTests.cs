using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ClusterDR.Backups;
using ClusterDR.Tests.Fixtures;
using ICSharpCode.SharpZipLib.Tar;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// Every way a file can fail to be a sound backup reaches the operator as its cause in ClusterDR's own
    /// words (not a zlib, SharpZipLib or Newtonsoft message), with a documented ErrorId.
    /// </summary>
    public sealed class ArchiveDamageTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("damage");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        private ClusterBackup Write(string name, CompressionLevel level = CompressionLevel.Fastest)
        {
            var data = new byte[200_000];
            new Random(7).NextBytes(data);
            using var w = BackupArchiveWriter.Create(_dir, name);
            w.CompressionLevel = level;
            w.AddStreamedPayload("snapshot.db", s => { s.DeclareLength(data.Length); s.Write(data, 0, data.Length); });
            return w.Commit(new BackupManifest { Kind = "test", Cluster = "c1", CreatedUtc = DateTime.UtcNow }, new RecordingContext());
        }

        private static ClusterDrException VerifyFails(string path) =>
            Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(path, new RecordingContext()));

        private static void AssertOwnWords(ClusterDrException ex)
        {
            Assert.DoesNotContain("unsupported compression method", ex.Message);
            Assert.DoesNotContain("Path ''", ex.Message);
        }

        [Fact]
        public void AFileThatIsNotGzipIsNotABackup()
        {
            string path = Path.Combine(_dir, "hostname");
            File.Copy("/etc/hostname", path);
            foreach (var ex in new[] { VerifyFails(path), Assert.Throws<ClusterDrException>(() => BackupArchiveReader.ReadBackup(path)) })
            {
                Assert.Equal(ErrorIds.ManifestInvalid, ex.ErrorId);
                Assert.Equal($"'{path}' is neither a zstd nor a gzip file, so not a ClusterDR backup.", ex.Message);
            }
        }

        [Theory]
        [InlineData(8)] // the first CRC-32 byte of the trailer
        [InlineData(5)] // the last CRC-32 byte
        public void AFlippedGzipChecksumIsReportedAsAChecksumMismatch(int fromEnd)
        {
            var b = Write("crc.tar.gz");
            var bytes = File.ReadAllBytes(b.Path);
            bytes[bytes.Length - fromEnd] ^= 0x01;
            File.WriteAllBytes(b.Path, bytes);
            var ex = VerifyFails(b.Path);
            Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
            Assert.Contains("the file is damaged: gzip checksum mismatch", ex.Message);
            AssertOwnWords(ex);
        }

        [Fact]
        public void AFlippedStoredPayloadByteIsDetected()
        {
            // Stored deflate blocks: the flip changes one payload byte and nothing else, so only a checksum can tell.
            var b = Write("payload.tar.gz", CompressionLevel.NoCompression);
            var bytes = File.ReadAllBytes(b.Path);
            bytes[bytes.Length - 50_000] ^= 0x01;
            File.WriteAllBytes(b.Path, bytes);
            var ex = VerifyFails(b.Path);
            Assert.Contains(ex.ErrorId, new[] { ErrorIds.ArchiveCorrupt, ErrorIds.PayloadHashMismatch });
            Assert.Contains("damaged", ex.Message);
            AssertOwnWords(ex);
        }

        [Fact]
        public void AFlippedCompressedByteIsDetectedInOperatorTerms()
        {
            var b = Write("deflate.tar.gz");
            var bytes = File.ReadAllBytes(b.Path);
            bytes[bytes.Length - 50_000] ^= 0x55;
            File.WriteAllBytes(b.Path, bytes);
            var ex = VerifyFails(b.Path);
            Assert.Contains(ex.ErrorId, new[] { ErrorIds.ArchiveCorrupt, ErrorIds.PayloadHashMismatch });
            Assert.Contains("damaged", ex.Message);
            AssertOwnWords(ex);
        }

        [Fact]
        public void AManifestThatIsNotJsonSaysSoWithoutTheParsersMessage()
        {
            string path = Path.Combine(_dir, "json.tar.gz");
            using (var f = File.Create(path))
            using (var gz = new GZipStream(f, CompressionLevel.Fastest))
            using (var tar = new TarOutputStream(gz, Encoding.UTF8))
            {
                var json = Encoding.UTF8.GetBytes("{\"formatVersion\":1,\"kind\":\"test\",\"files\":[]} trailing garbage");
                var e = TarEntry.CreateTarEntry("manifest.json");
                e.Size = json.Length;
                tar.PutNextEntry(e);
                tar.Write(json, 0, json.Length);
                tar.CloseEntry();
            }
            var ex = Assert.Throws<ClusterDrException>(() => BackupArchiveReader.ReadBackup(path));
            Assert.Equal(ErrorIds.ManifestInvalid, ex.ErrorId);
            Assert.Equal($"The manifest of '{path}' is damaged: manifest.json is not valid JSON.", ex.Message);
            Assert.IsAssignableFrom<Newtonsoft.Json.JsonException>(ex.InnerException);
        }

        [Theory]
        [InlineData("pipe", "a FIFO")]
        [InlineData("chr", "a character device")]
        [InlineData("blk", "a block device")]
        public void DevicesAndFifosAreRefusedByNameAndType(string name, string what)
        {
            // GNU tar's own archive of a real FIFO or device node, behind a valid manifest.
            string src = Path.Combine(_dir, "src");
            Directory.CreateDirectory(src);
            File.WriteAllText(Path.Combine(src, "manifest.json"), "{\"formatVersion\":1,\"kind\":\"test\",\"files\":[]}");
            Run("sh", "-c \"" + (name == "pipe" ? "mkfifo pipe" : name == "chr" ? "mknod chr c 1 3" : "mknod blk b 7 0") + "\"", src);
            string path = Path.Combine(_dir, name + ".tar.gz");
            Run("tar", $"-czf {path} manifest.json {name}", src);
            var ex = VerifyFails(path);
            Assert.Equal(ErrorIds.UnsafeArchiveEntry, ex.ErrorId);
            Assert.Equal($"Refusing archive entry '{name}': it is {what}; a backup holds only files, directories and links.", ex.Message);
            var refused = Assert.Throws<ClusterDrException>(() =>
            {
                using var r = BackupArchiveReader.Open(path); // may already see it: the entry sits in the manifest's tar record
                SafeExtractor.ExtractTo(r, Path.Combine(_dir, "out"));
            });
            Assert.Equal(ErrorIds.UnsafeArchiveEntry, refused.ErrorId);
            Assert.False(File.Exists(Path.Combine(_dir, "out", name)));
        }

        public static TheoryData<string, CompressionLevel, string> Layouts()
        {
            var data = new TheoryData<string, CompressionLevel, string>();
            foreach (var ext in new[] { ".tar.gz", ".tar.zst" })
            {
                data.Add("streamed", CompressionLevel.NoCompression, ext); data.Add("streamed", CompressionLevel.Fastest, ext);
                data.Add("staged-tree", CompressionLevel.NoCompression, ext); data.Add("staged-tree", CompressionLevel.Optimal, ext);
                data.Add("big-manifest", CompressionLevel.Fastest, ext);
                data.Add("streamed-late-dir", CompressionLevel.NoCompression, ext);
            }
            return data;
        }

        /// <summary>The archive shapes the platforms write: single pass (etcd, Deis), staged tree with directories (swarm, ZooKeeper), manifest rewrite.</summary>
        internal static ClusterBackup WriteLayout(string dir, string layout, CompressionLevel level, string ext)
        {
            var rnd = new Random(3);
            byte[] Data(int n) { var b = new byte[n]; rnd.NextBytes(b); return b; }
            using var w = BackupArchiveWriter.Create(dir, $"{layout}-{level}{ext}");
            w.CompressionLevel = level;
            if (layout == "streamed")
            {
                var d = Data(300_000);
                w.AddStreamedPayload("snapshot.db", s => { s.DeclareLength(d.Length); s.Write(d, 0, d.Length); });
            }
            else if (layout == "streamed-late-dir")
            {
                var d = Data(100_000);
                w.AddDirectory("early", Convert.ToInt32("700", 8));
                w.AddStreamedPayload("early/a", s => { s.DeclareLength(d.Length); s.Write(d, 0, d.Length); });
                w.AddDirectory("late", Convert.ToInt32("700", 8)); // after the first streamed payload
                w.AddPayload("late/b", s => s.Write(d, 0, 10));
            }
            else if (layout == "staged-tree")
            {
                w.AddDirectory("swarm", Convert.ToInt32("700", 8));
                w.AddDirectory("swarm/empty", Convert.ToInt32("700", 8));
                w.AddDirectory("swarm/" + new string('d', 120), Convert.ToInt32("700", 8));
                foreach (var (name, n) in new[] { ("swarm/state.json", 700), ("swarm/raft/wal-0", 200_000), ("swarm/" + new string('f', 110), 3) })
                {
                    var d = Data(n);
                    w.AddPayload(name, s => s.Write(d, 0, d.Length));
                }
            }
            else
            {
                w.ManifestReserve = 512;
                for (int i = 0; i < 30; i++)
                {
                    var d = Data(1000 + i);
                    w.AddStreamedPayload($"objects/{new string('k', 95)}-ü-{i}", s => { s.DeclareLength(d.Length); s.Write(d, 0, d.Length); });
                }
            }
            return w.Commit(new BackupManifest { Kind = "test", Cluster = "c1", CreatedUtc = DateTime.UtcNow }, new RecordingContext());
        }

        [Theory]
        [MemberData(nameof(Layouts))]
        public void ATruncatedCopyIsLeftOutOfTheListingWhileTheGoodOneLists(string layout, CompressionLevel level, string ext)
        {
            var good = WriteLayout(_dir, layout, level, ext);
            var bytes = File.ReadAllBytes(good.Path);
            // The cut right after the manifest: gzip's 10-byte header + two stored blocks (5-byte headers) of the 512 + 64 KiB head,
            // or zstd's raw frame (6-byte header, one 3-byte block header).
            int afterHead = ext == ".tar.gz" ? 10 + 2 * 5 + 512 + 64 * 1024 : 6 + 3 + 512 + 64 * 1024;
            var cuts = new System.Collections.Generic.List<int> { 2000, bytes.Length / 2, bytes.Length - 8, bytes.Length - 1 };
            if (layout == "streamed") cuts.Add(afterHead);
            var skipped = new System.Collections.Generic.Dictionary<string, ClusterDrException>();
            foreach (int cut in cuts)
            {
                Assert.InRange(cut, 1, bytes.Length - 1);
                File.WriteAllBytes(Path.Combine(_dir, $"cut-{cut}{ext}"), bytes.AsSpan(0, cut).ToArray());
            }
            var listed = BackupCatalog.List(_dir, false, null, null, (f, ex) => skipped[Path.GetFileName(f)] = ex);
            Assert.Equal(new[] { good.Name }, listed.Select(b => b.Name).ToArray());
            Assert.Equal(cuts.Select(c => $"cut-{c}{ext}").OrderBy(n => n), skipped.Keys.OrderBy(n => n));
            Assert.All(skipped.Values, ex => Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId));
            foreach (int cut in cuts)
                Assert.Equal(ErrorIds.ArchiveCorrupt, VerifyFails(Path.Combine(_dir, $"cut-{cut}{ext}")).ErrorId);
            Assert.True(BackupVerifier.Verify(good.Path, new RecordingContext()).Verified);
        }

        private static void Run(string file, string args, string cwd)
        {
            var psi = new ProcessStartInfo(file, args) { WorkingDirectory = cwd, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{file} {args}: {err}");
        }
    }
}
