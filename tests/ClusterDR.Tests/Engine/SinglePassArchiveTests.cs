using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using ClusterDR.Backups;
using ClusterDR.Tests.Fixtures;
using ICSharpCode.SharpZipLib.Tar;
using ICSharpCode.SharpZipLib.Zip.Compression;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// Payloads whose size is announced up front stream straight into the archive; manifest.json's space
    /// is kept at the front and patched at the end. The result must still be one ordinary gzip member that
    /// every reader (ours, GNU tar and gzip, a single-member inflater like .NET Framework's) takes as is.
    /// </summary>
    public sealed class SinglePassArchiveTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("single-pass");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        internal static byte[] Data(int n, int seed, bool compressible = false)
        {
            var b = new byte[n];
            new Random(seed).NextBytes(b);
            if (compressible) for (int i = 0; i < n; i++) b[i] = (byte)('a' + b[i] % 4);
            return b;
        }

        internal static void Stream(PayloadSink sink, byte[] data, int chunk = 7919)
        {
            sink.DeclareLength(data.Length);
            for (int at = 0; at < data.Length; at += chunk) sink.Write(data, at, Math.Min(chunk, data.Length - at));
        }

        internal static BackupManifest Manifest() => new BackupManifest { Kind = "test", Cluster = "c1", CreatedUtc = DateTime.UtcNow };

        internal static string Sha(byte[] b) => Convert.ToHexString(SHA256.HashData(b)).ToLowerInvariant();

        internal static (int Code, string Out) Run(string file, string args)
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string o = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, o);
        }

        [Theory]
        [InlineData(CompressionLevel.NoCompression)]
        [InlineData(CompressionLevel.Fastest)]
        [InlineData(CompressionLevel.Optimal)]
        public void StreamedStagedAndDirectoryEntriesMakeOneStandardGzipMemberWithTheManifestFirst(CompressionLevel level)
        {
            var big = Data(3_000_000, 1, compressible: true);
            var small = Data(70_000, 2);
            var staged = Encoding.UTF8.GetBytes("staged after the streamed ones");
            ClusterBackup b;
            using (var w = BackupArchiveWriter.Create(_dir, $"a-{level}.tar.gz"))
            {
                w.CompressionLevel = level;
                w.AddStreamedPayload("snapshot.db", s => Stream(s, big));
                w.AddStreamedPayload("sub/small.bin", s => Stream(s, small, 65536), mode: Convert.ToInt32("640", 8));
                w.AddDirectory("empty", Convert.ToInt32("750", 8));
                w.AddPayload("late.txt", s => s.Write(staged, 0, staged.Length));
                b = w.Commit(Manifest(), new RecordingContext());
            }
            Assert.Equal(new[] { Path.GetFileName(b.Path) }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).ToArray());

            // Our reader: manifest with both hashes, then a verifier pass over every byte.
            var m = BackupArchiveReader.ReadBackup(b.Path);
            Assert.Equal(Sha(big), m.Files.Single(f => f.Path == "snapshot.db").Sha256);
            Assert.Equal(small.Length, m.Files.Single(f => f.Path == "sub/small.bin").Size);
            Assert.True(BackupVerifier.Verify(b.Path, new RecordingContext()).Verified);

            // A single-member inflater (as .NET Framework's GZipStream is) must reach the deflate end exactly
            // before the 8-byte trailer, and the trailer's CRC-32 and length must be those of the whole tar.
            var file = File.ReadAllBytes(b.Path);
            Assert.Equal(new byte[] { 0x1f, 0x8b, 8, 0 }, file.Take(4).ToArray());
            var inflater = new Inflater(noHeader: true);
            inflater.SetInput(file, 10, file.Length - 10);
            var tar = new MemoryStream();
            var buf = new byte[1 << 16];
            while (!inflater.IsFinished)
            {
                int n = inflater.Inflate(buf);
                Assert.False(n == 0 && inflater.IsNeedingInput, "the deflate stream does not end");
                tar.Write(buf, 0, n);
            }
            Assert.Equal(8, inflater.RemainingInput);
            var crc = new ICSharpCode.SharpZipLib.Checksum.Crc32();
            crc.Update(new ArraySegment<byte>(tar.ToArray()));
            Assert.Equal((uint)crc.Value, BitConverter.ToUInt32(file, file.Length - 8));
            Assert.Equal((uint)tar.Length, BitConverter.ToUInt32(file, file.Length - 4));

            // GNU gzip and tar agree, entry by entry, mode by mode.
            var (gz, gzOut) = Run("gzip", $"-t \"{b.Path}\"");
            Assert.True(gz == 0, gzOut);
            var (code, list) = Run("tar", $"-tvzf \"{b.Path}\"");
            Assert.True(code == 0, list);
            var lines = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.EndsWith("manifest.json", lines[0]);
            Assert.Contains(lines, l => l.StartsWith("-rw-r-----") && l.EndsWith("sub/small.bin"));
            Assert.Contains(lines, l => l.StartsWith("drwxr-x---") && l.EndsWith("empty/"));
            var x = Path.Combine(_dir, "x");
            Directory.CreateDirectory(x);
            Assert.Equal(0, Run("tar", $"-xzf \"{b.Path}\" -C \"{x}\"").Code);
            Assert.Equal(big, File.ReadAllBytes(Path.Combine(x, "snapshot.db")));
            Assert.Equal(staged, File.ReadAllBytes(Path.Combine(x, "late.txt")));
            Assert.Equal(Sha(big), (string)Newtonsoft.Json.Linq.JObject.Parse(File.ReadAllText(Path.Combine(x, "manifest.json")))["files"]![0]!["sha256"]);
        }

        [Fact]
        public void NoCompressionStoresThePayloadAndFastestShrinksIt()
        {
            var data = Data(2_000_000, 3, compressible: true);
            long Size(CompressionLevel level)
            {
                using var w = BackupArchiveWriter.Create(_dir, $"s-{level}.tar.gz");
                w.CompressionLevel = level;
                w.AddStreamedPayload("p", s => Stream(s, data));
                return new FileInfo(w.Commit(Manifest(), new RecordingContext()).Path).Length;
            }
            long stored = Size(CompressionLevel.NoCompression), fastest = Size(CompressionLevel.Fastest);
            Assert.InRange(stored, data.Length, data.Length + 200_000);
            Assert.True(fastest < data.Length * 3 / 4, $"Fastest wrote {fastest} bytes for {data.Length}");
        }

        [Fact]
        public void AManifestLargerThanItsReservedSpaceCostsAnotherPassButStillComesFirst()
        {
            var payloads = Enumerable.Range(0, 40).Select(i => ($"objects/{new string('k', 90)}-{i}", Data(1000 + i, i))).ToArray();
            ClusterBackup b;
            using (var w = BackupArchiveWriter.Create(_dir, "big-manifest.tar.gz"))
            {
                w.ManifestReserve = 512;
                foreach (var (name, data) in payloads) w.AddStreamedPayload(name, s => Stream(s, data));
                b = w.Commit(Manifest(), new RecordingContext());
            }
            Assert.Single(Directory.GetFileSystemEntries(_dir));
            using (var gz = new GZipStream(File.OpenRead(b.Path), CompressionMode.Decompress))
            using (var tar = new TarInputStream(gz, Encoding.UTF8))
            {
                Assert.Equal("manifest.json", tar.GetNextEntry().Name);
                int count = 0;
                while (tar.GetNextEntry() != null) count++;
                Assert.Equal(payloads.Length, count);
            }
            Assert.Equal(payloads.Length, BackupArchiveReader.ReadBackup(b.Path).Manifest.Files.Count);
            Assert.True(BackupVerifier.Verify(b.Path, new RecordingContext()).Verified);
        }

        [Theory]
        [InlineData(-1)]
        [InlineData(+1)]
        public void ASourceThatBreaksItsAnnouncedSizeLeavesNoArchive(int delta)
        {
            var data = Data(100_000, 4);
            using (var w = BackupArchiveWriter.Create(_dir, "short.tar.gz"))
            {
                var ex = Assert.Throws<ClusterDrException>(() => w.AddStreamedPayload("p", s =>
                {
                    s.DeclareLength(data.Length - delta);
                    s.Write(data, 0, data.Length);
                }));
                Assert.Equal(ErrorIds.PayloadSizeMismatch, ex.ErrorId);
                Assert.Throws<InvalidOperationException>(() => w.Commit(Manifest(), new RecordingContext()));
            }
            Assert.Empty(Directory.GetFileSystemEntries(_dir));
        }

        [Fact]
        public void AProducerThatDoesNotKnowItsSizeIsStagedAndDeclaringLateIsRefused()
        {
            var data = Data(50_000, 5);
            ClusterBackup b;
            using (var w = BackupArchiveWriter.Create(_dir, "staged.tar.gz"))
            {
                w.AddStreamedPayload("unknown-size", s => s.Write(data, 0, data.Length));
                Assert.Throws<InvalidOperationException>(() => w.AddStreamedPayload("late", s => { s.Write(data, 0, 10); s.DeclareLength(10); }));
                b = w.Commit(Manifest(), new RecordingContext());
            }
            var m = BackupArchiveReader.ReadBackup(b.Path).Manifest;
            Assert.Equal(new[] { "unknown-size" }, m.Files.Select(f => f.Path).ToArray());
            Assert.Equal(Sha(data), m.Files[0].Sha256);
        }

        [Theory]
        [InlineData("12\n", 1)]
        [InlineData("      12\n", 3)]   // BSD wc pads with blanks
        [InlineData("12\n", 100)]
        public void ASizeLineIsAnnouncedBeforeThePayloadWhateverTheChunking(string line, int chunk)
        {
            var payload = Encoding.ASCII.GetBytes("abcdefghijkl");
            var all = Encoding.ASCII.GetBytes(line).Concat(payload).ToArray();
            var got = new MemoryStream();
            long announced = -1;
            using (var s = new SizeLineStream(got, n => { Assert.Equal(0, got.Length); announced = n; }))
            {
                for (int at = 0; at < all.Length; at += chunk) s.Write(all, at, Math.Min(chunk, all.Length - at));
                s.EnsureSizeSeen();
            }
            Assert.Equal(12, announced);
            Assert.Equal(payload, got.ToArray());
        }

        [Theory]
        [InlineData("Error: no snapshot\n")]
        [InlineData("")]
        public void AStreamWithoutASizeLineIsRefused(string text)
        {
            using var s = new SizeLineStream(System.IO.Stream.Null, _ => { });
            var bytes = Encoding.ASCII.GetBytes(text);
            var ex = Assert.Throws<ClusterDrException>(() => { s.Write(bytes, 0, bytes.Length); s.EnsureSizeSeen(); });
            Assert.Equal(ErrorIds.PayloadSizeMismatch, ex.ErrorId);
        }

        [Fact]
        public void Crc32CombineEqualsTheCrcOfTheConcatenation()
        {
            var rnd = new Random(6);
            foreach (int lenB in new[] { 0, 1, 7, 512, 65_537, 1_000_003 })
            {
                var a = Data(1 + rnd.Next(5000), rnd.Next());
                var bb = Data(lenB, rnd.Next());
                var all = a.Concat(bb).ToArray();
                Assert.Equal(Crc32.Compute(all, 0, all.Length), Crc32.Combine(Crc32.Compute(a, 0, a.Length), Crc32.Compute(bb, 0, bb.Length), lenB));
            }
            var check = Encoding.ASCII.GetBytes("123456789");
            Assert.Equal(0xCBF43926u, Crc32.Compute(check, 0, check.Length));
        }
    }
}
