using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Deis;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Deis
{
    /// <summary>The Deis store engine's pieces that need no Ceph: keys from deisctl, tar warnings, SigV2.</summary>
    public sealed class DeisStoreEngineTests : IDisposable
    {
        private readonly string _dir = TestEnv.TempDir("deis-engine");
        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        /// <summary>Records every script a node is given.</summary>
        private sealed class RecordingShell : IRemoteShell
        {
            private readonly LocalShell _inner = new LocalShell();
            public List<string> Scripts { get; } = new List<string>();
            public string Node => _inner.Node;
            public int Run(string script, Stream stdin, Stream stdout, Stream stderr, CancellationToken ct) { Scripts.Add(script); return _inner.Run(script, stdin, stdout, stderr, ct); }
            public void Dispose() => _inner.Dispose();
        }

        [Fact]
        public void KeysFromDeisctlComeBackOnStdoutAndTheSecretIsOnNoCommandLine()
        {
            const string secret = "s3cr3t-never-shown-0b7d";
            string deisctl = Path.Combine(_dir, "deisctl");
            File.WriteAllText(deisctl, $"#!/bin/sh\n[ \"$1 $2 $3\" = 'config store get' ] || exit 9\ncase \"$4\" in gateway/accessKey) echo AKIDEIS;; gateway/secretKey) echo '{secret}';; *) exit 1;; esac\n");
            Shell.Run("chmod", "+x", deisctl);
            using var sh = new RecordingShell();
            var o = new DeisS3Options();
            DeisStore.ReadKeysFromNode(sh, new DeisNodeOptions { DeisctlPath = deisctl }, o, default);
            Assert.Equal("AKIDEIS", o.AccessKey);
            Assert.Equal(secret, DeisStore.Plain(o.SecretKey));
            Assert.True(o.SecretKey.IsReadOnly());
            Assert.DoesNotContain(sh.Scripts, s => s.Contains(secret));

            // A deisctl that fails: a clear ErrorId, and its output (which may hold a key) is not in the message.
            File.WriteAllText(deisctl, $"#!/bin/sh\necho '{secret}'\nexit 4\n");
            var ex = Assert.Throws<ClusterDrException>(() => DeisStore.ReadKeysFromNode(sh, new DeisNodeOptions { DeisctlPath = deisctl }, new DeisS3Options(), default));
            Assert.Equal(ErrorIds.CredentialsUnavailable, ex.ErrorId);
            Assert.DoesNotContain(secret, ex.Message);
        }

        [Fact]
        public void FilesThatChangeWhileTarReadsThemAreAWarningOtherFailuresAreErrors()
        {
            using var sh = new LocalShell();
            var ctx = new RecordingContext();
            using (var w = BackupArchiveWriter.Create(_dir, "a.tar.gz"))
            {
                long n = DeisStoreBackup.StreamCommand(sh, "tar of /var/lib/deis/store", "printf abc; echo 'tar: ./logs/x.log: file changed as we read it' >&2; exit 1",
                    DeisStore.VolumePayload, w, ctx, tarWarnings: true);
                Assert.Equal(3, n);
                Assert.Contains(ctx.Warnings, m => m.Contains("file changed as we read it"));
                var ex = Assert.Throws<ClusterDrException>(() => DeisStoreBackup.StreamCommand(sh, "tar of /var/lib/deis/store", "printf abc; exit 2", "volume/other.tar", w, ctx, tarWarnings: true));
                Assert.Equal(ErrorIds.RemoteCommandFailed, ex.ErrorId);
                var db = Assert.Throws<ClusterDrException>(() => DeisStoreBackup.StreamCommand(sh, "pg_dumpall", "exit 1", DeisStore.DatabasePayload, w, ctx, tarWarnings: false));
                Assert.Equal(ErrorIds.RemoteCommandFailed, db.ErrorId);
            }
        }

        [Fact]
        public void TheOlderSignatureIsRefusedWithAClearMessage()
        {
            var ex = Assert.Throws<ClusterDrException>(() => DeisStore.Client(new DeisS3Options
            {
                GatewayUri = new Uri("http://127.0.0.1:1"), AccessKey = "a", SecretKey = CephS3.SecretKey("b"), SignatureVersion = "2",
            }));
            Assert.Equal(ErrorIds.S3Error, ex.ErrorId);
            Assert.Contains("Signature Version 4", ex.Message);
        }
    }
}
