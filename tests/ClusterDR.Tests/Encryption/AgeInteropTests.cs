using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using ClusterDR.Backups;
using ClusterDR.Encryption;
using ClusterDR.Tests.Engine;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Encryption
{
    /// <summary>
    /// Encrypted backups against the standard age tool (Debian's age 1.1.1), both ways: ours open with age -d and
    /// tar, and one of ours that age encrypted restores (verifies) with ClusterDR. Every size that matters to the
    /// STREAM framing and to the held head: tiny, one chunk exactly, past the head, many chunks.
    /// </summary>
    public sealed class AgeInteropTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("age");
        private readonly string _age = TestEnv.Require("age", "apt-get install age (tests/tools/install-deps.sh tools)");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        private (AgeIdentity Id, string KeyFile) NewKey(string name = "key.txt")
        {
            var id = AgeIdentity.Generate();
            string file = Path.Combine(_dir, name);
            File.WriteAllText(file, "# created: test\n# public key: " + id.Recipient + "\n" + id.Secret + "\n");
            return (id, file);
        }

        private ClusterBackup Write(string name, AgeEncryption enc, byte[] streamed, byte[] staged, string label = null)
        {
            using var w = BackupArchiveWriter.Create(_dir, name);
            w.Encryption = enc;
            if (streamed != null) w.AddStreamedPayload("payload.bin", s => SinglePassArchiveTests.Stream(s, streamed));
            if (staged != null) w.AddPayload("tree/late.bin", s => s.Write(staged, 0, staged.Length));
            var m = SinglePassArchiveTests.Manifest();
            m.Kind = "etcd";
            m.Label = label;
            return w.Commit(m, new RecordingContext());
        }

        private static (int Code, string Out) Sh(string script)
        {
            var psi = new ProcessStartInfo("/bin/sh", new[] { "-c", script }) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string o = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, o);
        }

        [Theory]
        [InlineData(10, 0, false)]          // everything in the first (held) chunk
        [InlineData(65536 - 1536, 0, false)] // about one chunk
        [InlineData(3_000_000, 70_000, false)] // streams past the held head
        [InlineData(3_000_000, 70_000, true)]  // compressible: the head patch lands in the held chunks
        public void OurEncryptedArchiveOpensWithAgeAndTar(int streamedLength, int stagedLength, bool compressible)
        {
            var (id, keyFile) = NewKey();
            var streamed = SinglePassArchiveTests.Data(streamedLength, 1, compressible);
            var staged = stagedLength > 0 ? SinglePassArchiveTests.Data(stagedLength, 2) : null;
            var b = Write("etcd-c1-20260101T000000Z.tar.zst.age", AgeEncryption.ToRecipients(new[] { id.Recipient }), streamed, staged);
            Assert.True(b.Encrypted);
            Assert.EndsWith(".tar.zst.age", b.Path);

            string outDir = Path.Combine(_dir, "out");
            Directory.CreateDirectory(outDir);
            var r = Sh($"'{_age}' -d -i '{keyFile}' '{b.Path}' | tar --zstd -x -C '{outDir}'");
            Assert.True(r.Code == 0, r.Out);
            Assert.Equal(streamed, File.ReadAllBytes(Path.Combine(outDir, "payload.bin")));
            if (staged != null) Assert.Equal(staged, File.ReadAllBytes(Path.Combine(outDir, "tree", "late.bin")));
            Assert.Contains("\"kind\": \"etcd\"", File.ReadAllText(Path.Combine(outDir, "manifest.json")));

            // And ClusterDR reads it back with the key: every hash checked.
            var keys = new AgeKeyring(AgeKeyring.ReadIdentityFile(keyFile), null);
            var v = BackupVerifier.Verify(new ClusterDR.Stores.BackupLocation(null, b.Path).WithKeys(keys), new RecordingContext());
            Assert.True(v.Verified);
            Assert.True(v.Encrypted);
        }

        [Fact]
        public void AnArchiveAgeEncryptedFromOneOfOursVerifiesWithClusterDrAndListsFromItsName()
        {
            var (id, keyFile) = NewKey();
            var data = SinglePassArchiveTests.Data(500_000, 3);
            string plain;
            using (var w = BackupArchiveWriter.Create(_dir, "etcd-prod-east-20260102T030405Z.tar.zst"))
            {
                w.AddStreamedPayload("payload.bin", s => SinglePassArchiveTests.Stream(s, data));
                var m = SinglePassArchiveTests.Manifest();
                m.Kind = "etcd";
                plain = w.Commit(m, new RecordingContext()).Path;
            }
            string enc = plain + ".age";
            var r = Sh($"'{_age}' -r {id.Recipient} -o '{enc}' '{plain}'");
            Assert.True(r.Code == 0, r.Out);
            File.Delete(plain);

            var listed = BackupCatalog.List(_dir, false, null, null, (p, e) => throw e).Single();
            Assert.True(listed.Encrypted);
            Assert.Equal("etcd", listed.Kind);
            Assert.Equal("prod-east", listed.Cluster);
            Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), listed.CreatedUtc);
            Assert.Empty(listed.Files);

            var keys = new AgeKeyring(AgeKeyring.ReadIdentityFile(keyFile), null);
            var v = BackupVerifier.Verify(new ClusterDR.Stores.BackupLocation(null, enc).WithKeys(keys), new RecordingContext());
            Assert.True(v.Verified);
            Assert.Equal(SinglePassArchiveTests.Sha(data), v.Files.Single().Sha256);
            Assert.Equal("c1", v.Cluster); // the manifest, now readable
        }

        [Fact]
        public void ClearMetadataListsWithoutTheKeyAndShowsNothingElse()
        {
            var (id, _) = NewKey();
            var secret = Encoding.UTF8.GetBytes("/registry/secrets/default/db-password: hunter2-" + Guid.NewGuid());
            var b = Write("etcd-c1-nightly-20260101T000000Z.tar.zst.age", AgeEncryption.ToRecipients(new[] { id.Recipient }), secret, null, label: "nightly");
            var listed = BackupCatalog.List(_dir, false, null, null, (p, e) => throw e).Single();
            Assert.Equal(("etcd", "c1", "nightly"), (listed.Kind, listed.Cluster, listed.Label));
            Assert.Equal(b.CreatedUtc.ToUniversalTime(), listed.CreatedUtc.ToUniversalTime());
            Assert.Equal(new FileInfo(b.Path).Length, listed.SizeBytes);
            Assert.Empty(listed.Files);
            Assert.Empty(listed.SourceNodes);
            // Neither the payload nor the manifest's file list is anywhere in the file's bytes.
            var bytes = File.ReadAllBytes(b.Path);
            string asText = Encoding.Latin1.GetString(bytes);
            Assert.DoesNotContain("hunter2", asText);
            Assert.DoesNotContain("payload.bin", asText);
            Assert.DoesNotContain("sha256", asText);

            // Without a key a read is refused; with another key too; neither message carries a key.
            var loc = new ClusterDR.Stores.BackupLocation(null, b.Path);
            var e1 = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(loc, new RecordingContext()));
            Assert.Equal(ErrorIds.BackupKeyRequired, e1.ErrorId);
            var other = AgeIdentity.Generate();
            var e2 = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(loc.WithKeys(new AgeKeyring(new[] { other }, null)), new RecordingContext()));
            Assert.Equal(ErrorIds.BackupKeyMismatch, e2.ErrorId);
            Assert.DoesNotContain("AGE-SECRET-KEY", e2.Message);
        }

        [Fact]
        public void AFlippedByteAnywhereIsFoundAndACutFileNeverLists()
        {
            var (id, keyFile) = NewKey();
            var data = SinglePassArchiveTests.Data(400_000, 4);
            var b = Write("etcd-c1-20260101T000000Z.tar.zst.age", AgeEncryption.ToRecipients(new[] { id.Recipient }), data, null);
            var keys = new AgeKeyring(AgeKeyring.ReadIdentityFile(keyFile), null);
            var good = File.ReadAllBytes(b.Path);
            int headerEnd = Encoding.ASCII.GetString(good).IndexOf("\n---", StringComparison.Ordinal);
            // In a stanza, in the MAC line, in the nonce, in the first chunk, in the middle, in the last byte.
            foreach (int at in new[] { 30, headerEnd + 10, headerEnd + 50, headerEnd + 70_000, good.Length / 2, good.Length - 1 })
            {
                var bad = (byte[])good.Clone();
                bad[at] ^= 0x20;
                File.WriteAllBytes(b.Path, bad);
                var e = Assert.ThrowsAny<ClusterDrException>(() => BackupVerifier.Verify(new ClusterDR.Stores.BackupLocation(null, b.Path).WithKeys(keys), new RecordingContext()));
                Assert.Contains(e.ErrorId, new[] { ErrorIds.ArchiveCorrupt, ErrorIds.ManifestInvalid, ErrorIds.BackupKeyMismatch });
            }
            // Cut at a chunk boundary and mid-chunk: the listing refuses both without the key, age too.
            foreach (int cut in new[] { good.Length - 1000, good.Length - (good.Length - headerEnd) % 65552 })
            {
                File.WriteAllBytes(b.Path, good.Take(cut).ToArray());
                var skipped = 0;
                Assert.Empty(BackupCatalog.List(_dir, false, null, null, (p, e) => skipped++));
                Assert.Equal(1, skipped);
                Assert.NotEqual(0, Sh($"'{_age}' -d -i '{keyFile}' '{b.Path}' > /dev/null").Code);
            }
        }

        [Fact]
        public void PassphraseArchivesOpenWithAgeAndAgePassphraseFilesOpenWithUs()
        {
            // age reads a passphrase from the terminal only: script(1) gives it one.
            TestEnv.Require("script", "apt-get install bsdutils");
            var data = SinglePassArchiveTests.Data(200_000, 5);
            string pass = "correct horse battery staple " + Guid.NewGuid().ToString("N").Substring(0, 6);
            var b = Write("etcd-c1-20260101T000000Z.tar.zst.age", AgeEncryption.WithPassphrase(pass), data, null);
            string passFile = Path.Combine(_dir, "pass");
            File.WriteAllText(passFile, pass + "\n");
            string outDir = Path.Combine(_dir, "out");
            Directory.CreateDirectory(outDir);
            var r = Sh($"script -qec \"'{_age}' -d -o '{_dir}/plain.tar.zst' '{b.Path}'\" /dev/null < '{passFile}'");
            Assert.True(r.Code == 0, r.Out);
            Assert.True(Sh($"tar --zstd -xf '{_dir}/plain.tar.zst' -C '{outDir}'").Code == 0);
            Assert.Equal(data, File.ReadAllBytes(Path.Combine(outDir, "payload.bin")));

            // The other way: age -p on the plain archive (the passphrase typed twice).
            string twice = Path.Combine(_dir, "twice");
            File.WriteAllText(twice, pass + "\n" + pass + "\n");
            string byAge = Path.Combine(_dir, "by-age", "etcd-c1-20260101T000001Z.tar.zst.age");
            Directory.CreateDirectory(Path.GetDirectoryName(byAge)!);
            r = Sh($"script -qec \"'{_age}' -p -o '{byAge}' '{_dir}/plain.tar.zst'\" /dev/null < '{twice}'");
            Assert.True(r.Code == 0, r.Out);
            var v = BackupVerifier.Verify(new ClusterDR.Stores.BackupLocation(null, byAge).WithKeys(new AgeKeyring(null, pass)), new RecordingContext());
            Assert.True(v.Verified);
            var wrong = Assert.Throws<ClusterDrException>(() => BackupVerifier.Verify(new ClusterDR.Stores.BackupLocation(null, byAge).WithKeys(new AgeKeyring(null, "not it")), new RecordingContext()));
            Assert.Equal(ErrorIds.BackupKeyMismatch, wrong.ErrorId);
            Assert.DoesNotContain(pass, wrong.Message);
        }

        [Fact]
        public void TwoHundredRecipientsMakeAHeaderPastTheFirstReadAndEachOpensIt()
        {
            var ids = Enumerable.Range(0, 200).Select(_ => AgeIdentity.Generate()).ToList();
            var data = SinglePassArchiveTests.Data(100_000, 6);
            var b = Write("etcd-c1-many-20260101T000000Z.tar.zst.age", AgeEncryption.ToRecipients(ids.Select(i => i.Recipient).ToList()), data, null, label: "many");
            Assert.True(Encoding.ASCII.GetString(File.ReadAllBytes(b.Path)).IndexOf("\n---", StringComparison.Ordinal) > 16 << 10);
            Assert.Equal("many", BackupCatalog.List(_dir, false, null, null, (p, e) => throw e).Single().Label);
            var last = ids[199];
            var v = BackupVerifier.Verify(new ClusterDR.Stores.BackupLocation(null, b.Path).WithKeys(new AgeKeyring(new[] { last }, null)), new RecordingContext());
            Assert.True(v.Verified);
            string keyFile = Path.Combine(_dir, "last.txt");
            File.WriteAllText(keyFile, last.Secret + "\n");
            Assert.Equal(0, Sh($"'{_age}' -d -i '{keyFile}' '{b.Path}' | tar --zstd -t > /dev/null").Code);
        }

        [Fact]
        public void KeysInterchangeWithAgeKeygen()
        {
            var (id, keyFile) = NewKey();
            var r = Sh($"age-keygen -y '{keyFile}'");
            Assert.True(r.Code == 0, r.Out);
            Assert.Equal(id.Recipient.ToString(), r.Out.Trim());
            string theirs = Path.Combine(_dir, "theirs.txt");
            Assert.Equal(0, Sh($"age-keygen -o '{theirs}' 2>/dev/null").Code);
            var parsed = AgeKeyring.ReadIdentityFile(theirs).Single();
            Assert.Contains("# public key: " + parsed.Recipient, File.ReadAllText(theirs));
            var bad = Assert.Throws<ClusterDrException>(() => AgeRecipient.Parse("age1notakey"));
            Assert.Equal(ErrorIds.EncryptionKeyInvalid, bad.ErrorId);
            File.WriteAllText(theirs, "AGE-SECRET-KEY-1QQQQ\n");
            var badId = Assert.Throws<ClusterDrException>(() => AgeKeyring.ReadIdentityFile(theirs));
            Assert.DoesNotContain("QQQQ", badId.Message);
        }
    }
}
