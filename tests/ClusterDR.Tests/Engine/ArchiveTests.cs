using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using ClusterDR.Backups;
using ClusterDR.Tests.Fixtures;
using ICSharpCode.SharpZipLib.Tar;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    public sealed class ArchiveTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("archive");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        private ClusterBackup Write(string name, params (string Path, byte[] Data)[] files)
        {
            using var w = BackupArchiveWriter.Create(_dir, name);
            foreach (var f in files) w.AddPayload(f.Path, s => s.Write(f.Data, 0, f.Data.Length));
            return w.Commit(new BackupManifest { Kind = "test", Cluster = "c1", Label = "l", CreatedUtc = DateTime.UtcNow }, new RecordingContext());
        }

        private static byte[] Random(int n) { var b = new byte[n]; new System.Random(n).NextBytes(b); return b; }

        [Fact]
        public void ManifestComesFirstAndRecordsSizeAndSha256OfEachFile()
        {
            var data = Random(300_000);
            var b = Write("a.tar.gz", ("snapshot.db", data), ("dir/x.txt", Encoding.UTF8.GetBytes("hello")));
            using var gz = new GZipStream(File.OpenRead(b.Path), CompressionMode.Decompress);
            using var tar = new TarInputStream(gz, Encoding.UTF8);
            Assert.Equal("manifest.json", tar.GetNextEntry().Name);
            var m = BackupArchiveReader.ReadBackup(b.Path);
            Assert.Equal("test", m.Kind);
            var snap = m.Files.Single(f => f.Path == "snapshot.db");
            Assert.Equal(data.Length, snap.Size);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant(), snap.Sha256);
            Assert.Equal(new[] { "manifest.json", "snapshot.db", "dir/x.txt" }, Entries(b.Path));
        }

        /// <summary>Mode 0600 is the Unix promise of the archive format (File.GetUnixFileMode has no Windows meaning).</summary>
        [Fact]
        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        public void ArchiveIsOwnerOnlyAndNoPartialOrStagingIsLeftBehind()
        {
            var b = Write("b.tar.gz", ("f", Random(10)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(b.Path));
            Assert.Equal(new[] { "b.tar.gz" }, Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).ToArray());
        }

        [Fact]
        public void AFailedBackupLeavesNothingThatLooksLikeABackup()
        {
            using (var w = BackupArchiveWriter.Create(_dir, "c.tar.gz"))
            {
                Assert.Throws<IOException>(() => w.AddPayload("f", s => { s.Write(new byte[100], 0, 100); throw new IOException("stream broke"); }));
            }
            Assert.Empty(Directory.GetFileSystemEntries(_dir));
        }

        [Fact]
        public void AnExistingBackupIsNeverOverwritten()
        {
            Write("d.tar.gz", ("f", Random(10)));
            var ex = Assert.Throws<ClusterDrException>(() => BackupArchiveWriter.Create(_dir, "d.tar.gz"));
            Assert.Equal(ErrorIds.BackupExists, ex.ErrorId);
        }

        [Fact]
        public void VerifyPassesAnIntactArchiveAndRecordsIt()
        {
            var b = Write("e.tar.gz", ("a", Random(70_000)), ("b/c", Random(5)));
            var v = BackupVerifier.Verify(b.Path, new RecordingContext());
            Assert.True(v.Verified);
            Assert.Contains("SHA-256 match", v.Verification);
        }

        [Fact]
        public void AFlippedPayloadByteFailsVerification()
        {
            // Store uncompressed-looking data so the flip lands inside the payload, and rewrite the gzip so only the tar content changes.
            var b = Write("f.tar.gz", ("a", Random(200_000)));
            var tar = Unpack(b.Path);
            int offset = FindPayloadOffset(tar, "a") + 1234;
            tar[offset] ^= 0xFF;
            Repack(b.Path, tar);
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(b.Path, new RecordingContext()));
            Assert.Equal(ErrorIds.PayloadHashMismatch, ex.ErrorId);
        }

        [Fact]
        public void ATruncatedArchiveIsReportedAsCorrupt()
        {
            var b = Write("g.tar.gz", ("a", Random(500_000)));
            var bytes = File.ReadAllBytes(b.Path);
            File.WriteAllBytes(b.Path, bytes.Take(bytes.Length / 2).ToArray());
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(b.Path, new RecordingContext()));
            Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
        }

        [Fact]
        public void GarbageIsNotABackupAndDamagedGzipIsCorrupt()
        {
            var path = Path.Combine(_dir, "garbage.tar.gz");
            var bytes = Random(4096);
            bytes[0] = 0; // not the gzip magic: not a backup at all
            File.WriteAllBytes(path, bytes);
            Assert.Equal(ErrorIds.ManifestInvalid, Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(path, new RecordingContext())).ErrorId);
            bytes[0] = 0x1f; bytes[1] = 0x8b; bytes[2] = 8; bytes[3] = 0; // a gzip header over garbage: a damaged file
            File.WriteAllBytes(path, bytes);
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(path, new RecordingContext()));
            Assert.Equal(ErrorIds.ArchiveCorrupt, ex.ErrorId);
            Assert.Contains("the file is damaged", ex.Message);
        }

        [Fact]
        public void AForeignTarGzIsNotABackup()
        {
            var path = Path.Combine(_dir, "foreign.tar.gz");
            WriteRawTar(path, ("etc/hosts", Encoding.UTF8.GetBytes("127.0.0.1 localhost"), TarHeader.LF_NORMAL, null));
            var ex = Assert.Throws<ClusterDrException>(() => BackupArchiveReader.ReadBackup(path));
            Assert.Equal(ErrorIds.ManifestInvalid, ex.ErrorId);
        }

        [Fact]
        public void MissingFileIsNotFound()
        {
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(Path.Combine(_dir, "nope.tar.gz"), new RecordingContext()));
            Assert.Equal(ErrorIds.BackupNotFound, ex.ErrorId);
        }

        [Theory]
        [InlineData("../evil")]
        [InlineData("a/../../evil")]
        [InlineData("/etc/passwd")]
        public void PathTraversalEntriesAreRefused(string name)
        {
            var path = Path.Combine(_dir, "trav.tar.gz");
            var manifest = Encoding.UTF8.GetBytes("{\"formatVersion\":1,\"kind\":\"test\",\"files\":[]}");
            WriteRawTar(path, ("manifest.json", manifest, TarHeader.LF_NORMAL, null), (name, Encoding.UTF8.GetBytes("x"), TarHeader.LF_NORMAL, null));
            var ex = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(path, new RecordingContext()));
            Assert.Equal(ErrorIds.UnsafeArchiveEntry, ex.ErrorId);
            var target = Path.Combine(_dir, "extract");
            using (var r = BackupArchiveReader.Open(path))
                Assert.Equal(ErrorIds.UnsafeArchiveEntry, Assert.Throws<ClusterDrException>(() => SafeExtractor.ExtractTo(r, target)).ErrorId);
            Assert.False(File.Exists(Path.Combine(_dir, "evil")));
        }

        [Theory]
        [InlineData("/etc/shadow")]
        [InlineData("../../outside")]
        public void LinksPointingOutsideAreRefused(string linkTarget)
        {
            var path = Path.Combine(_dir, "link.tar.gz");
            var manifest = Encoding.UTF8.GetBytes("{\"formatVersion\":1,\"kind\":\"test\",\"files\":[]}");
            WriteRawTar(path, ("manifest.json", manifest, TarHeader.LF_NORMAL, null), ("tree/l", new byte[0], TarHeader.LF_SYMLINK, linkTarget));
            using var r = BackupArchiveReader.Open(path);
            var ex = Assert.Throws<ClusterDrException>(() => SafeExtractor.ExtractTo(r, Path.Combine(_dir, "x")));
            Assert.Equal(ErrorIds.UnsafeArchiveEntry, ex.ErrorId);
        }

        [Fact]
        public void SafeExtractionWritesFilesAndInsideLinks()
        {
            var path = Path.Combine(_dir, "ok.tar.gz");
            var manifest = Encoding.UTF8.GetBytes("{\"formatVersion\":1,\"kind\":\"test\",\"files\":[]}");
            WriteRawTar(path, ("manifest.json", manifest, TarHeader.LF_NORMAL, null),
                ("tree/a.txt", Encoding.UTF8.GetBytes("A"), TarHeader.LF_NORMAL, null),
                ("tree/sub/l", new byte[0], TarHeader.LF_SYMLINK, "../a.txt"));
            using var r = BackupArchiveReader.Open(path);
            var target = Path.Combine(_dir, "out");
            Assert.Equal(2, SafeExtractor.ExtractTo(r, target, "tree"));
            Assert.Equal("A", File.ReadAllText(Path.Combine(target, "sub", "l")));
        }

        [Fact]
        public void CatalogListsNewestFirstAndFiltersByKindWhileSkippingForeignFiles()
        {
            using (var w = BackupArchiveWriter.Create(_dir, "old.tar.gz"))
                w.Commit(new BackupManifest { Kind = "etcd", Cluster = "c", CreatedUtc = DateTime.UtcNow.AddDays(-1) }, new RecordingContext());
            using (var w = BackupArchiveWriter.Create(_dir, "new.tar.gz"))
                w.Commit(new BackupManifest { Kind = "etcd", Cluster = "c", CreatedUtc = DateTime.UtcNow }, new RecordingContext());
            using (var w = BackupArchiveWriter.Create(_dir, "other.tar.gz"))
                w.Commit(new BackupManifest { Kind = "swarm", Cluster = "c", CreatedUtc = DateTime.UtcNow }, new RecordingContext());
            File.WriteAllBytes(Path.Combine(_dir, "junk.tar.gz"), new byte[] { 1, 2, 3 });
            int skipped = 0;
            var list = BackupCatalog.List(_dir, false, "etcd", null, (_, __) => skipped++);
            Assert.Equal(new[] { "new.tar.gz", "old.tar.gz" }, list.Select(b => b.Name).ToArray());
            Assert.Equal(1, skipped);
        }

        [Fact]
        public void RemoveDeletesOnlyRealBackups()
        {
            var b = Write("r.tar.gz", ("f", Random(10)));
            var junk = Path.Combine(_dir, "notes.txt");
            File.WriteAllText(junk, "keep me");
            // docs/en-US/Remove-ClusterBackup.md: a file that is not a backup is refused with ManifestInvalid.
            Assert.Equal(ErrorIds.ManifestInvalid, Assert.Throws<ClusterDrException>(() => BackupCatalog.Remove(junk)).ErrorId);
            Assert.True(File.Exists(junk));
            BackupCatalog.Remove(b.Path);
            Assert.False(File.Exists(b.Path));
        }

        private static string[] Entries(string path)
        {
            using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var tar = new TarInputStream(gz, Encoding.UTF8);
            var names = new System.Collections.Generic.List<string>();
            TarEntry e;
            while ((e = tar.GetNextEntry()) != null) names.Add(e.Name);
            return names.ToArray();
        }

        /// <summary>The tar inside an archive of either format.</summary>
        internal static byte[] Unpack(string path)
        {
            var codec = ArchiveCodec.Detect(path)!;
            using var f = File.OpenRead(path);
            using var inner = codec.OpenRead(f);
            using var ms = new MemoryStream();
            inner.CopyTo(ms);
            return ms.ToArray();
        }

        /// <summary>Writes <paramref name="tar"/> back in the archive's own format (a whole, valid stream around changed content).</summary>
        internal static void Repack(string path, byte[] tar)
        {
            var codec = ArchiveCodec.Detect(path)!;
            using var f = File.Create(path);
            using var inner = codec.OpenWrite(f, CompressionLevel.Fastest);
            inner.Write(tar, 0, tar.Length);
        }

        /// <summary>Offset of an entry's content in an uncompressed tar (header blocks are 512 bytes).</summary>
        internal static int FindPayloadOffset(byte[] tar, string name)
        {
            for (int at = 0; at + 512 <= tar.Length;)
            {
                string n = Encoding.ASCII.GetString(tar, at, 100).TrimEnd('\0');
                long size = Convert.ToInt64(Encoding.ASCII.GetString(tar, at + 124, 11).Trim('\0', ' '), 8);
                if (n == name) return at + 512;
                at += 512 + (int)((size + 511) / 512 * 512);
            }
            throw new InvalidOperationException(name + " not found");
        }

        private static void WriteRawTar(string path, params (string Name, byte[] Data, byte Type, string Link)[] entries)
        {
            using var f = File.Create(path);
            using var gz = new GZipStream(f, CompressionLevel.Fastest);
            using var tar = new TarOutputStream(gz, Encoding.UTF8);
            foreach (var e in entries)
            {
                var entry = TarEntry.CreateTarEntry("x");
                entry.TarHeader.Name = e.Name; // bypass SharpZipLib's own clean-up: the point is a hostile name
                entry.TarHeader.TypeFlag = e.Type;
                if (e.Link != null) entry.TarHeader.LinkName = e.Link;
                entry.Size = e.Data.Length;
                tar.PutNextEntry(entry);
                tar.Write(e.Data, 0, e.Data.Length);
                tar.CloseEntry();
            }
        }
    }
}
