using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using ClusterDR.Backups;
using ClusterDR.Deis;
using ClusterDR.Safety;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Deis
{
    /// <summary>Real Ceph radosgw, sshd and PostgreSQL (TESTING.md): backup, wipe, restore, -WhatIf, the guards, wrong keys. One Ceph for the class.</summary>
    public sealed class DeisStoreTests : IClassFixture<CephS3>, IDisposable
    {
        private readonly CephS3 _ceph;
        private readonly string _out = TestEnv.TempDir("deis-out");
        private readonly string _vol = TestEnv.TempDir("deis-vol");
        public DeisStoreTests(CephS3 ceph) { _ceph = ceph; }
        public void Dispose() { try { Directory.Delete(_out, true); } catch { } try { Directory.Delete(_vol, true); } catch { } }

        private DeisS3Options S3(string secret = CephS3.Secret, string signature = "4") =>
            new DeisS3Options { GatewayUri = _ceph.Gateway, AccessKey = CephS3.AccessKey, SecretKey = CephS3.SecretKey(secret), SignatureVersion = signature };
        private DeisNodeOptions Nodes(PgTestServer pg = null) => new DeisNodeOptions
        {
            StoreDir = _vol, CephCommand = _ceph.CephCommand,
            DatabaseDumpCommand = pg?.DumpCommand ?? "false", DatabaseLoadCommand = pg?.LoadCommand ?? "false",
        };
        private AmazonS3Client Client() => DeisStore.Client(S3());

        private static byte[] Bytes(int n, int seed) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }

        private void Fill(AmazonS3Client s3)
        {
            foreach (var b in DeisStore.DefaultBuckets) s3.PutBucketAsync(b).GetAwaiter().GetResult();
            void Put(string bucket, string key, byte[] data) =>
                s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(data), UseChunkEncoding = false }).GetAwaiter().GetResult();
            Put("db_wal", "basebackups_005/empty", new byte[0]);
            Put("db_wal", "wal_005/000000010000000000000001.lzo", Bytes(1000, 1));
            Put("registry", "registry/repositories/library/app/_index_images", Bytes(37, 2));
            // Keys that are not clean paths still come back exactly: a folder marker, a double slash, a percent sign.
            Put("registry", "registry/folder/", new byte[0]);
            Put("registry", "registry//double%20slash", Bytes(11, 3));
            for (int i = 0; i < 20; i++) Put("registry", $"registry/images/{i:x4}/layer", Bytes(5000 + i * 997, 10 + i));
            // Over 8 MiB in one PUT: read back as ranged GETs, its MD5 (the ETag) checked over the whole.
            Put("db_wal", "basebackups_005/base_000000010000000000000002/tar_partitions/part_00000000.tar.lzo", Bytes(9 * 1024 * 1024 + 7, 4));
            // A multi-part object (3 parts of 5 MiB + a tail).
            var big = Bytes(16 * 1024 * 1024 + 12345, 99);
            const int part = 5 * 1024 * 1024;
            var init = s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "registry", Key = "registry/images/big/layer" }).GetAwaiter().GetResult();
            var etags = new List<PartETag>();
            for (int i = 0, off = 0; off < big.Length; i++, off += part)
            {
                int len = Math.Min(part, big.Length - off);
                var r = s3.UploadPartAsync(new UploadPartRequest { BucketName = "registry", Key = "registry/images/big/layer", UploadId = init.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(big, off, len), PartSize = len, UseChunkEncoding = false }).GetAwaiter().GetResult();
                etags.Add(new PartETag(i + 1, r.ETag));
            }
            s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "registry", Key = "registry/images/big/layer", UploadId = init.UploadId, PartETags = etags }).GetAwaiter().GetResult();
        }

        private Dictionary<string, string> Objects(AmazonS3Client s3)
        {
            var all = new Dictionary<string, string>();
            foreach (var b in DeisStore.DefaultBuckets)
            {
                if (!s3.ListBucketsAsync().GetAwaiter().GetResult().Buckets?.Any(x => x.BucketName == b) ?? true) continue;
                foreach (var o in DeisStoreBackup.List(s3, S3(), b, default))
                {
                    using var r = s3.GetObjectAsync(b, o.Key).GetAwaiter().GetResult();
                    using var sha = SHA256.Create();
                    all[b + "/" + o.Key] = Convert.ToHexString(sha.ComputeHash(r.ResponseStream));
                }
            }
            return all;
        }

        private void Wipe(AmazonS3Client s3)
        {
            var existing = s3.ListBucketsAsync().GetAwaiter().GetResult().Buckets ?? new List<S3Bucket>();
            foreach (var b in existing)
            {
                foreach (var o in DeisStoreBackup.List(s3, S3(), b.BucketName, default)) s3.DeleteObjectAsync(b.BucketName, o.Key).GetAwaiter().GetResult();
                s3.DeleteBucketAsync(b.BucketName).GetAwaiter().GetResult();
            }
        }

        private void MakeVolume()
        {
            Directory.CreateDirectory(Path.Combine(_vol, "logs", "deep", "er"));
            File.WriteAllText(Path.Combine(_vol, "logs", "controller.log"), "controller log\n");
            File.WriteAllBytes(Path.Combine(_vol, "logs", "deep", "er", "app.log"), Bytes(70000, 5));
            File.WriteAllText(Path.Combine(_vol, "owned-by-1234"), "x");
            Shell.Run("chown", "-R", "1001:1002", Path.Combine(_vol, "logs"));
            Shell.Run("chown", "1234:4321", Path.Combine(_vol, "owned-by-1234"));
            Shell.Run("chmod", "0640", Path.Combine(_vol, "owned-by-1234"));
            Shell.Run("chmod", "0700", Path.Combine(_vol, "logs", "deep"));
        }

        private string VolumeSignature() => Shell.Run("sh", "-c", $"cd '{_vol}' && find . -printf '%p %U:%G %m %s\\n' | sort && find . -type f -exec sha256sum {{}} + | sort");

        /// <summary>The volume as an operator sees it, leaving out what a restore moved aside (and the volume dir's own line).</summary>
        private string VolumeSignatureOutsideAside(string sub = ".") => Shell.Run("sh", "-c",
            $"cd '{_vol}/{sub}' && find . -mindepth 1 -path './.clusterdr-*' -prune -o -printf '%p %U:%G %m %s\\n' | sort && find . -path './.clusterdr-*' -prune -o -type f -exec sha256sum {{}} + | sort");

        [Fact]
        public async Task ARestoreOntoAVolumeThatHoldsDataRefusesWithoutForceAndOtherwiseMovesItAsideNeverOverwritingIt()
        {
            using var s3 = Client();
            Fill(s3);
            MakeVolume();
            string original = VolumeSignatureOutsideAside();
            using var sh = new LocalShell();
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = S3(), Nodes = Nodes(), StoreShell = sh, Directory = _out }, new RecordingContext());
            Wipe(s3);
            // The volume now holds something else: a file the backup lacks, and a file the backup would overwrite.
            File.WriteAllText(Path.Combine(_vol, "local-only.txt"), "only here");
            File.WriteAllText(Path.Combine(_vol, "logs", "controller.log"), "newer log\n");
            string changed = VolumeSignatureOutsideAside();

            // 1. Without -Force: refused before anything is touched.
            var ex = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(), Nodes = Nodes(), StoreShell = sh }, new RecordingContext()));
            Assert.Equal(ErrorIds.StoreNotEmpty, ex.ErrorId);
            Assert.Contains("store volume", ex.Message);
            Assert.Equal(changed, VolumeSignatureOutsideAside());
            Assert.Empty((await s3.ListBucketsAsync()).Buckets ?? new List<S3Bucket>());

            // 2. With -Force but a later step failing (the database load): the volume is put back exactly.
            var failing = new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(), Nodes = Nodes(), StoreShell = sh, Force = true, RestoreDatabase = false, ReSave = true, ControllerShell = sh };
            failing.Nodes.ControllerCommand = "exit 3";
            ex = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(failing, new RecordingContext()));
            Assert.Equal(ErrorIds.RestoreFailed, ex.ErrorId);
            Assert.Equal(changed, VolumeSignatureOutsideAside());
            Assert.DoesNotContain(Directory.GetFileSystemEntries(_vol), e => Path.GetFileName(e).StartsWith(".clusterdr-moved-aside-"));
            Assert.Empty((await s3.ListBucketsAsync()).Buckets ?? new List<S3Bucket>());

            // 3. With -Force: the backup's volume in place, what was there before kept whole in <dir>/.clusterdr-moved-aside-<stamp>/.
            var ctx = new RecordingContext();
            var result = DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(), Nodes = Nodes(), StoreShell = sh, Force = true }, ctx);
            Assert.Equal(original, VolumeSignatureOutsideAside());
            var aside = Assert.Single(Directory.GetDirectories(_vol), d => Path.GetFileName(d).StartsWith(".clusterdr-moved-aside-"));
            Assert.Equal(changed, VolumeSignatureOutsideAside(Path.GetFileName(aside)));
            Assert.Contains(result.MovedAside, kv => kv.Value.EndsWith(Path.GetFileName(aside)));
            Assert.Contains(ctx.Warnings, w => w.Contains("store volume") && w.Contains(".clusterdr-moved-aside-"));
        }

        [Fact]
        public async Task BackupWipeRestoreBringsBackEveryObjectFileOwnerAndTheDatabase()
        {
            using var s3 = Client();
            Wipe(s3);
            Fill(s3);
            MakeVolume();
            using var pg = new PgTestServer();
            pg.Psql("postgres", "CREATE DATABASE deis");
            pg.Psql("deis", "CREATE TABLE api_app (id text primary key, owner text); INSERT INTO api_app VALUES ('app1','alice'),('app2','bob')");
            var objects = Objects(s3);
            string volume = VolumeSignature();
            using var ssh = new SshTestServer();
            using var node = ShellFactory.Create(ssh.Node, null, ssh.Options);

            // Keys read on the node with deisctl: the command holds no secret, the secret is in no message.
            string deisctl = Path.Combine(ssh.Dir, "deisctl");
            File.WriteAllText(deisctl, $"#!/bin/sh\ncase \"$4\" in gateway/accessKey) echo {CephS3.AccessKey};; gateway/secretKey) echo {CephS3.Secret};; *) exit 1;; esac\n");
            Shell.Run("chmod", "+x", deisctl);
            var n = Nodes(pg);
            n.DeisctlPath = deisctl;
            var ctx = new RecordingContext();
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest
            {
                S3 = new DeisS3Options { GatewayUri = _ceph.Gateway }, Nodes = n, StoreShell = node, IncludeDatabase = true, Directory = _out, Label = "t",
            }, ctx);
            Assert.Equal("deis-store", backup.Kind);
            Assert.Equal(objects.Count.ToString(), backup.Facts["objects"]);
            Assert.Contains(backup.Files, f => f.Path == "s3/db_wal/basebackups_005/empty" && f.Size == 0);
            Assert.Contains(backup.Files, f => f.Path.StartsWith("s3x/registry/", StringComparison.Ordinal) && f.Size == 0);
            Assert.Contains(backup.Files, f => f.Path == "s3/registry/registry/images/big/layer" && f.Size == 16 * 1024 * 1024 + 12345);
            Assert.Contains(backup.Files, f => f.Path == DeisStore.VolumePayload);
            Assert.Contains(backup.Files, f => f.Path == DeisStore.DatabasePayload);
            Assert.All(backup.Files, f => Assert.Matches("^[0-9a-f]{64}$", f.Sha256));
            Assert.DoesNotContain(ctx.Verbose.Concat(ctx.Warnings).Concat(ctx.Asked), m => m.Contains(CephS3.Secret));
            // Objects stream straight into a stored archive: two large ones by ranges, the rest whole.
            Assert.Contains(ctx.Verbose, v => v.Contains($"{objects.Count - 2} read whole in parallel, 2 in parallel ranges"));
            Assert.True(new FileInfo(backup.Path).Length > backup.Files.Where(f => f.Path.StartsWith("s3")).Sum(f => f.Size), "objects are stored uncompressed by default");

            // -WhatIf on a wiped target: every step reported, nothing touched.
            Wipe(s3);
            Shell.Run("sh", "-c", $"rm -rf '{_vol}'/* '{_vol}'/.[!.]* 2>/dev/null; true");
            pg.Psql("postgres", "DROP DATABASE deis");
            var whatIf = new RecordingContext(Decision.WhatIf);
            DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(), Nodes = Nodes(pg), StoreShell = node, RestoreDatabase = true }, whatIf);
            Assert.True(whatIf.Asked.Count >= 4);
            Assert.Empty((await s3.ListBucketsAsync()).Buckets ?? new List<S3Bucket>());
            Assert.Empty(Directory.GetFileSystemEntries(_vol));
            Assert.Equal("", pg.Psql("postgres", "SELECT datname FROM pg_database WHERE datname='deis'"));

            var ctl = Path.Combine(_out, "resaved.py");
            var restoreCtx = new RecordingContext();
            var result = DeisStoreRestore.Run(new DeisStoreRestoreRequest
            {
                BackupPath = backup.Path, S3 = S3(), Nodes = new DeisNodeOptions
                {
                    StoreDir = _vol, CephCommand = _ceph.CephCommand, DatabaseLoadCommand = pg.LoadCommand, ControllerCommand = "cat > " + ctl,
                },
                StoreShell = node, ControllerShell = node, RestoreDatabase = true, ReSave = true,
            }, restoreCtx);
            Assert.Equal(objects, Objects(s3));
            Assert.Equal(volume, VolumeSignature());
            Assert.Equal("app1 alice|app2 bob", pg.Psql("deis", "SELECT string_agg(id || ' ' || owner, '|' ORDER BY id) FROM api_app"));
            Assert.Contains("Domain.objects.all()", File.ReadAllText(ctl));
            Assert.Equal(objects.Count, result.Parts.Single(p => p.Name == "objects").Items);
            Assert.True(result.Parts.Single(p => p.Name == "volume").Bytes > 70000);
            Assert.True(result.Parts.Single(p => p.Name == "database").Bytes > 0);

            // The store now holds data: a second restore is refused and changes nothing.
            var full = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(), Nodes = Nodes(), RestoreVolume = false }, new RecordingContext()));
            Assert.Equal(ErrorIds.StoreNotEmpty, full.ErrorId);
        }

        [Theory]
        [InlineData("4")]
        [InlineData("2")]
        public async Task WrongKeysGetAClearErrorIdAndWriteNothing(string signature)
        {
            Wipe(Client());
            var backupErr = Assert.Throws<ClusterDrException>(() => DeisStoreBackup.Run(new DeisStoreBackupRequest
            {
                S3 = S3("not-the-secret", signature), Nodes = Nodes(), IncludeVolume = false, Directory = _out,
            }, new RecordingContext()));
            Assert.Equal(ErrorIds.S3AccessDenied, backupErr.ErrorId);
            Assert.DoesNotContain("not-the-secret", backupErr.ToString());
            Assert.Empty(Directory.GetFileSystemEntries(_out));

            // A restore with wrong keys refuses before its first step: the target store stays as it was.
            using var s3 = Client();
            foreach (var b in DeisStore.DefaultBuckets) await s3.PutBucketAsync(b);
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = S3(), Nodes = Nodes(), IncludeVolume = false, Directory = _out }, new RecordingContext());
            var before = DeisStore.DefaultBuckets.Sum(b => DeisStoreBackup.List(s3, S3(), b, default).Count);
            var ctx = new RecordingContext();
            var restoreErr = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(new DeisStoreRestoreRequest
            {
                BackupPath = backup.Path, S3 = S3("not-the-secret", signature), Nodes = Nodes(), RestoreVolume = false, Force = true,
            }, ctx));
            Assert.Equal(ErrorIds.S3AccessDenied, restoreErr.ErrorId);
            Assert.Empty(ctx.Asked);
            Assert.Equal(before, DeisStore.DefaultBuckets.Sum(b => DeisStoreBackup.List(s3, S3(), b, default).Count));
        }

        [Fact]
        public async Task BackupAndRestoreWithSignatureVersion2BringBackEveryObjectIncludingMultiPartOnes()
        {
            using var v4 = Client();
            Wipe(v4);
            var o2 = S3(signature: "2");
            using (var s2 = DeisStore.Client(o2)) Fill(s2); // the multi-part object goes up through SigV2 too
            var objects = Objects(v4);
            var ctx = new RecordingContext();
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = S3(signature: "2"), Nodes = Nodes(), IncludeVolume = false, Directory = _out }, ctx);
            Assert.Equal(objects.Count.ToString(), backup.Facts["objects"]);
            Wipe(v4);
            var result = DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(signature: "2"), Nodes = Nodes(), RestoreVolume = false }, ctx);
            Assert.Equal(objects, Objects(v4));
            Assert.Equal(objects.Count, result.Parts.Single(p => p.Name == "objects").Items);
            // Objects over PartSize (8 MiB) go up in parts: ?uploads, ?partNumber=&uploadId=, ?uploadId= all signed with SigV2.
            Assert.EndsWith("-3\"", (await v4.GetObjectMetadataAsync("registry", "registry/images/big/layer")).ETag);
            Assert.DoesNotContain(ctx.Verbose.Concat(ctx.Warnings), m => m.Contains(CephS3.Secret));
        }

        /// <summary>Every bucket, and every object in it with size, ETag, Content-Type and SHA-256: what "exactly as before" means.</summary>
        private string State(AmazonS3Client s3)
        {
            var lines = new List<string>();
            foreach (var b in (s3.ListBucketsAsync().GetAwaiter().GetResult().Buckets ?? new List<S3Bucket>()).Select(x => x.BucketName).OrderBy(x => x, StringComparer.Ordinal))
            {
                lines.Add("bucket " + b);
                foreach (var o in DeisStoreBackup.List(s3, S3(), b, default).OrderBy(x => x.Key, StringComparer.Ordinal))
                {
                    using var r = s3.GetObjectAsync(b, o.Key).GetAwaiter().GetResult();
                    lines.Add($"  {o.Key} {o.Size} {o.ETag} {r.Headers.ContentType} {Convert.ToHexString(SHA256.HashData(r.ResponseStream))}");
                }
            }
            return string.Join("\n", lines);
        }

        /// <summary>A copy of an archive whose one payload has a flipped byte: framing intact, its SHA-256 no longer the manifest's.</summary>
        private string CorruptCopy(string archive, string payload)
        {
            string bad = Path.Combine(_out, "corrupt.tar.gz");
            using var src = File.OpenRead(archive);
            using var tin = new ICSharpCode.SharpZipLib.Tar.TarInputStream(ClusterDR.Backups.ArchiveCodec.Detect(archive)!.OpenRead(src), System.Text.Encoding.UTF8);
            using var tout = new ICSharpCode.SharpZipLib.Tar.TarOutputStream(new System.IO.Compression.GZipStream(File.Create(bad), System.IO.Compression.CompressionLevel.Fastest), System.Text.Encoding.UTF8);
            bool flipped = false;
            ICSharpCode.SharpZipLib.Tar.TarEntry e;
            while ((e = tin.GetNextEntry()) != null)
            {
                var ms = new MemoryStream();
                tin.CopyEntryContents(ms);
                var data = ms.ToArray();
                if (e.Name.TrimStart('.', '/') == payload && data.Length > 0) { data[0] ^= 0xff; flipped = true; }
                tout.PutNextEntry(e);
                tout.Write(data, 0, data.Length);
                tout.CloseEntry();
            }
            Assert.True(flipped, payload + " is not in " + archive);
            return bad;
        }

        private static void Put(AmazonS3Client s3, string bucket, string key, byte[] data) =>
            s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(data), UseChunkEncoding = false }).GetAwaiter().GetResult();

        [Theory]
        [InlineData("4")]
        [InlineData("2")]
        public async Task AFailedRestorePutsTheBucketsBackExactlyAndForceNeverLosesAnObjectItOverwrites(string signature)
        {
            using var s3 = Client();
            Wipe(s3);
            Fill(s3);
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = S3(), Nodes = Nodes(), IncludeVolume = false, Directory = _out }, new RecordingContext());
            using var sh = new LocalShell();
            var withVolume = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = S3(), Nodes = Nodes(), StoreShell = sh, Directory = Path.Combine(_out, "v") }, new RecordingContext());
            // The registry objects in the order the restore meets them (Parallelism 1 keeps that order).
            var order = new List<string>();
            using (var reader = BackupArchiveReader.Open(backup.Path))
                reader.ForEachEntry((name, e, c) => { if (DeisStore.TryParseArchiveName(name, out var b, out var k) && b == "registry") order.Add(k); });
            Assert.True(order.Count >= 20);

            // The target: db_wal is gone (the restore creates it), registry holds objects of its own, some with keys the backup has.
            foreach (var o in DeisStoreBackup.List(s3, S3(), "db_wal", default)) await s3.DeleteObjectAsync("db_wal", o.Key);
            await s3.DeleteBucketAsync("db_wal");
            string denied = order[^1];               // missing from the target: its PUT is refused, late in the restore
            var overwritten = order.Take(3).ToList(); // held with other content: moved aside before they are overwritten
            string same = order[3];                   // held with the same content: kept as it is
            await s3.DeleteObjectAsync("registry", denied);
            foreach (var (k, i) in overwritten.Select((k, i) => (k, i))) Put(s3, "registry", k, Bytes(300 + i, 1000 + i));
            Put(s3, "registry", "registry/not-in-the-backup", Bytes(77, 77));
            await s3.PutBucketPolicyAsync(new PutBucketPolicyRequest
            {
                BucketName = "registry",
                Policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::registry/" + denied + "\"}]}",
            });
            string before = State(s3);
            var oldContent = overwritten.ToDictionary(k => k, k => SHA(s3, "registry", k));
            var request = new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(signature: signature), Nodes = Nodes(), RestoreVolume = false, Force = true };
            request.S3.Parallelism = 1;

            // 1. A PUT refused mid-upload: the objects uploaded so far are deleted, the overwritten ones put back, db_wal deleted.
            var ctx = new RecordingContext();
            var ex = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(request, ctx));
            Assert.Equal(ErrorIds.S3AccessDenied, ex.ErrorId);
            Assert.Contains("put back 3 object(s)", ex.Message);
            Assert.Contains("Uploading registry/" + denied + ": the S3 gateway", ex.Message);
            Assert.Matches(@"removed [1-9]\d* object\(s\)", ex.Message);
            Assert.Contains("deleted bucket(s) db_wal", ex.Message);
            Assert.Equal(before, State(s3));

            // 2. An object of the archive that no longer matches its checksum, met late in the upload: the same undo.
            await s3.DeleteBucketPolicyAsync("registry");
            before = State(s3);
            string copy = Path.Combine(_out, "copy", Path.GetFileName(backup.Path));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(backup.Path, copy);
            string corrupt = CorruptCopy(backup.Path, DeisStore.ArchiveName("registry", denied));
            ctx = new RecordingContext { OnAsk = (target, action) => { if (action.StartsWith("Upload", StringComparison.Ordinal)) File.Copy(corrupt, copy, true); } };
            var corrupted = new DeisStoreRestoreRequest { BackupPath = copy, S3 = S3(signature: signature), Nodes = Nodes(), RestoreVolume = false, Force = true };
            corrupted.S3.Parallelism = 1;
            ex = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(corrupted, ctx));
            Assert.Equal(ErrorIds.PayloadHashMismatch, ex.ErrorId);
            Assert.Matches(@"removed [1-9]\d* object\(s\)", ex.Message);
            Assert.Contains("put back 3 object(s)", ex.Message);
            Assert.Equal(before, State(s3));

            // 3. A failure after the upload step (the store volume cannot be written): the plan's undo does the same.
            var vol = new DeisStoreRestoreRequest { BackupPath = withVolume.Path, S3 = S3(signature: signature), Nodes = Nodes(), StoreShell = sh, RestoreVolume = true, Force = true };
            vol.Nodes.StoreDir = "/proc/clusterdr-cannot-write-here";
            ex = Assert.Throws<ClusterDrException>(() => DeisStoreRestore.Run(vol, new RecordingContext()));
            Assert.Equal(ErrorIds.RestoreFailed, ex.ErrorId);
            Assert.Contains("Undid 2 of 2 completed step(s)", ex.Message);
            Assert.Equal(before, State(s3));

            // 4. The same restore without a failure: the backup's content everywhere, the old content of each overwritten key kept aside.
            ctx = new RecordingContext();
            var result = DeisStoreRestore.Run(request, ctx);
            Assert.Equal(3, result.MovedAside.Count);
            foreach (var k in overwritten)
            {
                string aside = result.MovedAside["registry/" + k];
                Assert.Matches("^registry/clusterdr-moved-aside/\\d{8}T\\d{6}Z/", aside);
                Assert.Equal(oldContent[k], SHA(s3, "registry", aside.Substring("registry/".Length)));
            }
            Assert.Equal(3, result.Parts.Single(p => p.Name == "moved-aside").Items);
            Assert.True(result.Parts.Single(p => p.Name == "unchanged").Items >= 1);
            Assert.Contains(ctx.Warnings, w => w.Contains("clusterdr-moved-aside/") && w.Contains("3 object(s)"));
            var now = Objects(s3);
            using (var reader = BackupArchiveReader.Open(backup.Path))
                reader.ForEachEntry((name, e, c) =>
                {
                    if (!DeisStore.TryParseArchiveName(name, out var b, out var k)) return;
                    Assert.Equal(Convert.ToHexString(SHA256.HashData(c)), now[b + "/" + k]);
                });
            Assert.Equal(Convert.ToHexString(SHA256.HashData(Bytes(77, 77))), SHA(s3, "registry", "registry/not-in-the-backup"));
            Assert.Equal(SHA(s3, "registry", same), now["registry/" + same]);
        }

        [Fact]
        public async Task SignatureVersion2SignsEveryS3OperationTheStoreUsesOnRealRadosgw()
        {
            using var v4 = Client();
            Wipe(v4);
            var o = S3();
            o.SignatureVersion = "2";
            using var s3 = DeisStore.Client(o);
            // Buckets: create (relaxed name), list.
            await s3.PutBucketAsync("db_wal");
            Assert.Contains((await s3.ListBucketsAsync()).Buckets, b => b.BucketName == "db_wal");
            // Objects with keys that need escaping, with Content-MD5 and a Content-Type, read back by GET and HEAD.
            var keys = new[] { "plain/key", "registry//double%20slash", "with space+plus&amp=eq", "folder/", "ünï/çødé~!*'()" };
            foreach (var (k, i) in keys.Select((k, i) => (k, i)))
            {
                var data = Bytes(100 + i, i);
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = "db_wal", Key = k, InputStream = new MemoryStream(data), ContentType = "application/x-test", MD5Digest = Convert.ToBase64String(MD5.HashData(data)), UseChunkEncoding = false });
                using var r = await s3.GetObjectAsync("db_wal", k);
                var back = new MemoryStream();
                r.ResponseStream.CopyTo(back);
                Assert.Equal(data, back.ToArray());
                Assert.Equal(data.Length, (await s3.GetObjectMetadataAsync("db_wal", k)).ContentLength);
            }
            // Listing (list-type=2) sees them; the same objects through SigV4 are byte-identical.
            Assert.Equal(keys.OrderBy(k => k, StringComparer.Ordinal), DeisStoreBackup.List(s3, o, "db_wal", default).Select(x => x.Key).OrderBy(k => k, StringComparer.Ordinal));
            // Multi-part: ?uploads, ?partNumber=&uploadId=, POST ?uploadId= and DELETE ?uploadId= (abort).
            var big = Bytes(11 * 1024 * 1024, 7);
            var init = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "db_wal", Key = "multi/part" });
            var etags = new List<PartETag>();
            for (int i = 0, off = 0; off < big.Length; i++, off += 5 * 1024 * 1024)
            {
                int len = Math.Min(5 * 1024 * 1024, big.Length - off);
                var r = await s3.UploadPartAsync(new UploadPartRequest { BucketName = "db_wal", Key = "multi/part", UploadId = init.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(big, off, len), PartSize = len, UseChunkEncoding = false });
                etags.Add(new PartETag(i + 1, r.ETag));
            }
            await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "db_wal", Key = "multi/part", UploadId = init.UploadId, PartETags = etags });
            Assert.EndsWith("-3\"", (await s3.GetObjectMetadataAsync("db_wal", "multi/part")).ETag);
            var aborted = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "db_wal", Key = "multi/aborted" });
            await s3.AbortMultipartUploadAsync("db_wal", "multi/aborted", aborted.UploadId);
            // Server-side copy (x-amz-copy-source) and ?acl.
            await s3.CopyObjectAsync(new CopyObjectRequest { SourceBucket = "db_wal", SourceKey = "with space+plus&amp=eq", DestinationBucket = "db_wal", DestinationKey = "copied/ünï" });
            Assert.Equal(102, (await s3.GetObjectMetadataAsync("db_wal", "copied/ünï")).ContentLength);
            Assert.NotNull((await s3.GetObjectAclAsync(new GetObjectAclRequest { BucketName = "db_wal", Key = "plain/key" })).Owner);
            Assert.Equal(SHA(v4, "db_wal", "multi/part"), Convert.ToHexString(SHA256.HashData(big)));
            // A server-side copy in parts (x-amz-copy-source-range on ?partNumber=&uploadId=), as for objects over 5 GiB.
            await DeisS3Transfer.Copy(s3, "db_wal", "multi/part", "multi/copied", big.Length, 5 * 1024 * 1024, default);
            Assert.EndsWith("-3\"", (await s3.GetObjectMetadataAsync("db_wal", "multi/copied")).ETag);
            Assert.Equal(SHA(v4, "db_wal", "multi/copied"), Convert.ToHexString(SHA256.HashData(big)));
            // Delete objects and the bucket.
            foreach (var x in DeisStoreBackup.List(s3, o, "db_wal", default)) await s3.DeleteObjectAsync("db_wal", x.Key);
            await s3.DeleteBucketAsync("db_wal");
            Assert.DoesNotContain((await v4.ListBucketsAsync()).Buckets ?? new List<S3Bucket>(), b => b.BucketName == "db_wal");
        }

        private static string SHA(AmazonS3Client s3, string bucket, string key)
        {
            using var r = s3.GetObjectAsync(bucket, key).GetAwaiter().GetResult();
            return Convert.ToHexString(SHA256.HashData(r.ResponseStream));
        }

        [Fact]
        public void APoshSshSessionToTheStoreNodeCarriesTheGuardTheKeysAndTheVolumeBothWays()
        {
            // The classes of SSH.NET's shape that the Posh-SSH adapter tests use: commands really run under /bin/sh.
            var client = new Engine.SshNetShapedSessionTests.SshNetShapedClient();
            using var session = new SshNetSessionShell(new Engine.SshNetShapedSessionTests.PoshSshShapedSession { Session = client, Host = "deis-1" });
            using var s3 = Client();
            Wipe(s3);
            Fill(s3);
            MakeVolume();
            var objects = Objects(s3);
            string volume = VolumeSignature();
            string deisctl = Path.Combine(_out, "deisctl");
            File.WriteAllText(deisctl, $"#!/bin/sh\ncase \"$4\" in gateway/accessKey) echo {CephS3.AccessKey};; gateway/secretKey) echo {CephS3.Secret};; *) exit 1;; esac\n");
            Shell.Run("chmod", "+x", deisctl);
            var n = Nodes();
            n.DeisctlPath = deisctl;
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest
            {
                S3 = new DeisS3Options { GatewayUri = _ceph.Gateway, SignatureVersion = "2" }, Nodes = n, StoreShell = session, Directory = Path.Combine(_out, "b"),
            }, new RecordingContext());
            Assert.Contains("ssh-session:deis-1", backup.SourceNodes);
            Assert.Contains(backup.Files, f => f.Path == DeisStore.VolumePayload && f.Size > 70000);
            Assert.DoesNotContain(CephS3.Secret, client.LastCommandText);

            Wipe(s3);
            Shell.Run("sh", "-c", $"rm -rf '{_vol}'/* '{_vol}'/.[!.]* 2>/dev/null; true");
            var result = DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = new DeisS3Options { GatewayUri = _ceph.Gateway }, Nodes = n, StoreShell = session }, new RecordingContext());
            Assert.Equal(objects, Objects(s3));
            Assert.Equal(volume, VolumeSignature());
            Assert.Contains("ssh-session:deis-1", result.Members);
        }

        /// <summary>Keys S3 keeps as they are but a path normalizer would collapse, and keys that need escaping.</summary>
        private static readonly string[] DotKeys = { "docker/dot/./z", "a/./b", "a/../b", "trail/.", "./lead", "../up", "x/..", "sp ace+plus%/ünï~", "plain/key" };

        [Fact]
        public async Task TheWireKeepsDotSegmentsThatSystemUriCollapses()
        {
            using var s3 = Client();
            Wipe(s3);
            await s3.PutBucketAsync("registry");
            Put(s3, "registry", "docker/dot/./z", Bytes(10, 1));
            Put(s3, "registry", "docker/dot/z", Bytes(20, 2));
            // The URI as AWSSDK's netstandard2.0 build (the one the module ships) hands it to HttpClient: System.Uri has collapsed it.
            var uri = new Uri(_ceph.Gateway + "registry/docker/dot/./z");
            Assert.Equal("/registry/docker/dot/z", uri.AbsolutePath);
            using var http = new S3HttpClientFactory(CephS3.AccessKey, System.Text.Encoding.UTF8.GetBytes(CephS3.Secret), 4).CreateHttpClient(new AmazonS3Config());
            using var r = await http.GetAsync(uri);
            Assert.True(r.IsSuccessStatusCode, r.StatusCode.ToString());
            Assert.Equal(Bytes(10, 1), await r.Content.ReadAsByteArrayAsync());
        }

        [Theory]
        [InlineData("4")]
        [InlineData("2")]
        public async Task KeysWithDotSegmentsRoundTripHexEncodedInTheArchive(string signature)
        {
            using var s3 = Client();
            Wipe(s3);
            await s3.PutBucketAsync("registry");
            foreach (var (k, i) in DotKeys.Select((k, i) => (k, i))) Put(s3, "registry", k, Bytes(50 + i, 600 + i));
            var objects = Objects(s3);
            Assert.Equal(DotKeys.Length, objects.Count);
            var o = S3(signature: signature);
            o.Buckets = new[] { "registry" };
            var backup = DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = o, Nodes = Nodes(), IncludeVolume = false, Directory = _out }, new RecordingContext());
            // Only the clean key is stored by name; no entry can name a path outside the archive's tree, and each decodes to its key.
            Assert.Equal(new[] { "s3/registry/plain/key" }, backup.Files.Where(f => f.Path.StartsWith("s3/", StringComparison.Ordinal)).Select(f => f.Path));
            Assert.All(backup.Files, f => Assert.Equal(f.Path, ArchivePaths.Normalize(f.Path)));
            Assert.Equal(DotKeys.OrderBy(k => k, StringComparer.Ordinal), backup.Files.Select(f => DeisStore.TryParseArchiveName(f.Path, out _, out var k) ? k : null).OrderBy(k => k, StringComparer.Ordinal));
            Wipe(s3);
            var result = DeisStoreRestore.Run(new DeisStoreRestoreRequest { BackupPath = backup.Path, S3 = S3(signature: signature), Nodes = Nodes(), RestoreVolume = false }, new RecordingContext());
            Assert.Equal(DotKeys.Length, result.Parts.Single(p => p.Name == "objects").Items);
            Assert.Equal(objects, Objects(s3));
        }

        [Fact]
        public void AListedObjectThatIsGoneWhenReadIsAnObjectMismatchNamingItNotAKeyProblem()
        {
            using var s3 = Client();
            Wipe(s3);
            Fill(s3);
            const string gone = "registry/images/0007/layer";
            // Deleted after the listing, when the copy step is confirmed.
            var ctx = new RecordingContext { OnAsk = (target, action) => s3.DeleteObjectAsync("registry", gone).GetAwaiter().GetResult() };
            var o = S3();
            o.Parallelism = 1;
            var ex = Assert.Throws<ClusterDrException>(() => DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = o, Nodes = Nodes(), IncludeVolume = false, Directory = _out }, ctx));
            var cause = ex.ErrorId == ErrorIds.BackupFailed ? Assert.IsType<ClusterDrException>(ex.InnerException) : ex;
            Assert.Equal(ErrorIds.S3ObjectMismatch, cause.ErrorId);
            Assert.Contains("registry/" + gone, cause.Message);
            Assert.DoesNotContain("keys", ex.Message);
        }

        [Fact]
        public void TheGuardRefusesWhenTheMonitorIsDown()
        {
            using var sh = new LocalShell();
            var ok = DeisStore.ReadCeph(sh, Nodes(), default, out var health, out var problem);
            Assert.Null(problem);
            Assert.True(ok.HasQuorum);
            _ceph.StopMon();
            try
            {
                var n = Nodes();
                n.CephTimeout = TimeSpan.FromSeconds(3);
                var ex = Assert.Throws<ClusterDrException>(() => DeisStoreBackup.Run(new DeisStoreBackupRequest { S3 = S3(), Nodes = n, StoreShell = sh, Directory = _out }, new RecordingContext()));
                Assert.Equal(ErrorIds.QuorumAtRisk, ex.ErrorId);
                Assert.Empty(Directory.GetFileSystemEntries(_out));
            }
            finally { _ceph.StartMon(); }
        }
    }
}
