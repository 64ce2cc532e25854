using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ClusterDR.Backups;
using ClusterDR.Tests.Fixtures;
using Xunit;
using static ClusterDR.Tests.Engine.SinglePassArchiveTests;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// The default archive, .tar.zst: frames in a row (manifest's raw frame, the compressed tar, ClusterDR's
    /// skippable trailer) that the standard zstd tool and GNU tar take as one ordinary stream, and that our
    /// reader refuses in its own words when damaged. Old .tar.gz archives stay readable beside them.
    /// </summary>
    public sealed class ZstdArchiveTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("zstd");

        public ZstdArchiveTests() => TestEnv.Require("zstd", "apt-get install zstd");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        [Theory]
        [InlineData(CompressionLevel.NoCompression)]
        [InlineData(CompressionLevel.Fastest)]
        [InlineData(CompressionLevel.Optimal)]
        public void StreamedStagedAndDirectoryEntriesMakeAStandardZstdStreamThatTarAndZstdOpen(CompressionLevel level)
        {
            var big = Data(3_000_000, 1, compressible: true);
            var small = Data(70_000, 2);
            var staged = Encoding.UTF8.GetBytes("staged after the streamed ones");
            ClusterBackup b;
            using (var w = BackupArchiveWriter.Create(_dir, $"a-{level}.tar.zst"))
            {
                Assert.Equal(ArchiveFormat.Zstd, w.Format);
                w.CompressionLevel = level;
                w.AddStreamedPayload("snapshot.db", s => Stream(s, big));
                w.AddStreamedPayload("sub/small.bin", s => Stream(s, small, 65536), mode: Convert.ToInt32("640", 8));
                w.AddDirectory("empty", Convert.ToInt32("750", 8));
                w.AddPayload("late.txt", s => s.Write(staged, 0, staged.Length));
                b = w.Commit(Manifest(), new RecordingContext());
            }
            Assert.Equal(new[] { Path.GetFileName(b.Path) }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).ToArray());
            var m = BackupArchiveReader.ReadBackup(b.Path);
            Assert.Equal(Sha(big), m.Files.Single(f => f.Path == "snapshot.db").Sha256);
            Assert.True(BackupVerifier.Verify(b.Path, new RecordingContext()).Verified);

            var file = File.ReadAllBytes(b.Path);
            Assert.Equal(new byte[] { 0x28, 0xb5, 0x2f, 0xfd }, file.Take(4).ToArray());
            // zstd checks every frame (content checksums included) and skips our trailer; what it decodes is the tar
            // whose exact length the trailer records.
            var (t, tOut) = Run("zstd", $"-q -t \"{b.Path}\"");
            Assert.True(t == 0, tOut);
            string tarPath = Path.Combine(_dir, "plain.tar");
            Assert.Equal(0, Run("zstd", $"-q -d \"{b.Path}\" -o \"{tarPath}\"").Code);
            Assert.Equal(new FileInfo(tarPath).Length, ZstdFrames.ReadTrailer(b.Path));

            var (code, list) = Run("tar", $"--zstd -tvf \"{b.Path}\"");
            Assert.True(code == 0, list);
            var lines = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.EndsWith("manifest.json", lines[0]);
            Assert.Contains(lines, l => l.StartsWith("-rw-r-----") && l.EndsWith("sub/small.bin"));
            Assert.Contains(lines, l => l.StartsWith("drwxr-x---") && l.EndsWith("empty/"));
            var x = Path.Combine(_dir, "x");
            Directory.CreateDirectory(x);
            Assert.Equal(0, Run("tar", $"--zstd -xf \"{b.Path}\" -C \"{x}\"").Code);
            Assert.Equal(big, File.ReadAllBytes(Path.Combine(x, "snapshot.db")));
            Assert.Equal(small, File.ReadAllBytes(Path.Combine(x, "sub", "small.bin")));
            Assert.Equal(staged, File.ReadAllBytes(Path.Combine(x, "late.txt")));
            Assert.Equal(Sha(big), (string)Newtonsoft.Json.Linq.JObject.Parse(File.ReadAllText(Path.Combine(x, "manifest.json")))["files"]![0]!["sha256"]);
        }

        [Fact]
        public void FastestIsSmallerThanGzipsFastestAndNoCompressionStoresThePayload()
        {
            var data = Data(2_000_000, 3, compressible: true);
            long Size(string ext, CompressionLevel level)
            {
                using var w = BackupArchiveWriter.Create(_dir, $"s-{level}{ext}");
                w.CompressionLevel = level;
                w.AddStreamedPayload("p", s => Stream(s, data));
                return new FileInfo(w.Commit(Manifest(), new RecordingContext()).Path).Length;
            }
            long stored = Size(".tar.zst", CompressionLevel.NoCompression), zstd = Size(".tar.zst", CompressionLevel.Fastest), gzip = Size(".tar.gz", CompressionLevel.Fastest);
            Assert.InRange(stored, data.Length, data.Length + 100_000);
            Assert.True(zstd < gzip, $"zstd level 1 wrote {zstd} bytes, gzip's fastest {gzip}");
        }

        [Fact]
        public void ABackupFromOutsideClusterDrIsRecognisedAndAForeignZstdFileIsNoBackup()
        {
            // A .tar.zst made with the standard tools from one of ours (no trailer frame): read and verified.
            var ours = WriteLayout("streamed", CompressionLevel.Fastest);
            string x = Path.Combine(_dir, "x"), retarred = Path.Combine(_dir, "retarred.tar.zst");
            Directory.CreateDirectory(x);
            Assert.Equal(0, Run("tar", $"--zstd -xf \"{ours.Path}\" -C \"{x}\"").Code);
            File.Delete(ours.Path);
            Assert.Equal(0, Run("sh", $"-c \"cd '{x}' && tar -cf - manifest.json snapshot.db | zstd -q -1 -o '{retarred}'\"").Code);
            Assert.True(BackupVerifier.Verify(retarred, new RecordingContext()).Verified);
            // Listing proves completeness from the trailer ClusterDR writes; without one the file is left out, as a cut one is.
            var skipped = new System.Collections.Generic.List<string>();
            Assert.Empty(BackupCatalog.List(_dir, false, null, null, (f, e) => skipped.Add(Path.GetFileName(f))));
            Assert.Equal(new[] { "retarred.tar.zst" }, skipped);

            string foreign = Path.Combine(_dir, "foreign.tar.zst");
            File.WriteAllText(Path.Combine(_dir, "f.txt"), "just a file");
            Assert.Equal(0, Run("zstd", $"-q \"{Path.Combine(_dir, "f.txt")}\" -o \"{foreign}\"").Code);
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(foreign, new RecordingContext()));
            Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
        }

        [Theory]
        [InlineData(0.5)]  // inside the compressed frame
        [InlineData(0.99)] // near its end: the content checksum
        public void AFlippedByteIsReportedInClusterDrsWordsBeforeAnythingIsUsed(double where)
        {
            var b = WriteLayout("streamed", CompressionLevel.Fastest);
            var bytes = File.ReadAllBytes(b.Path);
            int head = 6 + 3 + 512 + 64 * 1024;
            int at = head + (int)((bytes.Length - head - ZstdFrames.TrailerLength) * where);
            bytes[at] ^= 0x40;
            File.WriteAllBytes(b.Path, bytes);
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(b.Path, new RecordingContext()));
            Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
            Assert.Contains(b.Path, ex.Message);
            Assert.DoesNotContain("ZSTD_error", ex.Message);
        }

        [Fact]
        public void ListingShowsBothFormatsNewestFirst()
        {
            var gz = WriteLayout("staged-tree", CompressionLevel.Fastest, ".tar.gz");
            System.Threading.Thread.Sleep(20);
            var zst = WriteLayout("streamed", CompressionLevel.Fastest);
            var listed = BackupCatalog.List(_dir, false, null, null, (f, e) => throw e);
            Assert.Equal(new[] { zst.Name, gz.Name }, listed.Select(l => l.Name).ToArray());
            Assert.EndsWith(".tar.zst", BackupArchiveWriter.DefaultFileName("etcd", "c1", null, DateTime.UtcNow));
            Assert.EndsWith(".tar.gz", BackupArchiveWriter.DefaultFileName("etcd", "c1", null, DateTime.UtcNow, ArchiveFormat.Gzip));
        }

        private ClusterBackup WriteLayout(string layout, CompressionLevel level, string ext = ".tar.zst") =>
            ArchiveDamageTests.WriteLayout(_dir, layout, level, ext);
    }
}
