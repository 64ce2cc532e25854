using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Tests.Fixtures;
using ClusterDR.Transport;
using Xunit;

namespace ClusterDR.Tests.Engine
{
    /// <summary>
    /// PayloadFanOut: the snapshot of an etcd restore read once for every member's copy. Every copy gets the payload
    /// whole, none completes when the payload does not match its manifest, and one that fails never leaves the others
    /// waiting for data that cannot come.
    /// </summary>
    public sealed class PayloadFanOutTests : IDisposable
    {
        private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
        private readonly string _dir = TestEnv.TempDir("fan-out");
        private readonly byte[] _data = new byte[12_000_000]; // six times what a consumer's pipe holds

        public PayloadFanOutTests() => new Random(11).NextBytes(_data);
        public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

        private string Write(string name, CompressionLevel level = CompressionLevel.Fastest)
        {
            using var w = BackupArchiveWriter.Create(_dir, name);
            w.CompressionLevel = level;
            w.AddStreamedPayload("snapshot.db", s => { s.DeclareLength(_data.Length); s.Write(_data, 0, _data.Length); });
            return w.Commit(new BackupManifest { Kind = "test", Cluster = "c1", CreatedUtc = DateTime.UtcNow }, new RecordingContext()).Path;
        }

        /// <summary>Runs each consumer on a thread of its own, as the plan's lanes do; returns what each threw (null: nothing).</summary>
        private static Exception[] RunAtOnce(params Action[] consumers)
        {
            var errors = new Exception[consumers.Length];
            var threads = consumers.Select((c, i) => new Thread(() => { try { c(); } catch (Exception ex) { errors[i] = ex; } })).ToList();
            threads.ForEach(t => t.Start());
            Assert.All(threads, t => Assert.True(t.Join(Wait), "a consumer was left waiting"));
            return errors;
        }

        [Fact]
        public void EveryConsumerGetsThePayloadWholeFromOneRead()
        {
            var fanOut = new PayloadFanOut(Write("good.tar.zst"), "snapshot.db", 3);
            var got = new string[3];
            using var sh = new LocalShell();
            var errors = RunAtOnce(Enumerable.Range(0, 3).Select(i => (Action)(() => fanOut.Consume(payload =>
            {
                // A real consumer, as the restore's: a process on the member's node reading its stdin.
                string file = Path.Combine(_dir, $"copy-{i}.db");
                sh.RunStreaming("Copy snapshot", "cat > " + Sh.Quote(file), payload, null, CancellationToken.None);
                got[i] = Convert.ToBase64String(SHA256.Create().ComputeHash(File.ReadAllBytes(file)));
            }))).ToArray());
            Assert.All(errors, Assert.Null);
            string want = Convert.ToBase64String(SHA256.Create().ComputeHash(_data));
            Assert.All(got, h => Assert.Equal(want, h));
            Assert.Throws<InvalidOperationException>(() => fanOut.Consume(_ => { }));
        }

        [Fact]
        public void APayloadThatNoLongerMatchesItsManifestCompletesNoCopy()
        {
            // Stored (uncompressed) payload bytes: one flipped byte changes the payload and nothing a decompressor sees.
            string path = Write("changed.tar.gz", CompressionLevel.NoCompression);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length - 2_000_000] ^= 0x01;
            File.WriteAllBytes(path, bytes);
            var fanOut = new PayloadFanOut(path, "snapshot.db", 2);
            int ends = 0;
            var errors = RunAtOnce(Enumerable.Range(0, 2).Select(_ => (Action)(() => fanOut.Consume(payload =>
            {
                payload.CopyTo(Stream.Null);
                Interlocked.Increment(ref ends); // reached only by a copy that saw its end of stream
            }))).ToArray());
            Assert.Equal(0, ends);
            Assert.All(errors, ex =>
            {
                var cde = Assert.IsType<ClusterDrException>(ex);
                Assert.Contains(cde.ErrorId, new[] { ErrorIds.PayloadHashMismatch, ErrorIds.ArchiveCorrupt });
            });
        }

        [Fact]
        public void AConsumerThatFailsMidwayStopsTheOthersWithItsReason()
        {
            var fanOut = new PayloadFanOut(Write("mid.tar.zst"), "snapshot.db", 3);
            using var sh = new LocalShell();
            var errors = RunAtOnce(
                () => fanOut.Consume(payload => payload.CopyTo(Stream.Null)),
                // A node whose disk fills up after 64 KiB.
                () => fanOut.Consume(payload => sh.RunStreaming("Copy snapshot", "head -c 65536 >/dev/null; echo 'No space left on device' >&2; exit 1", payload, null, CancellationToken.None)),
                () => fanOut.Consume(payload => payload.CopyTo(Stream.Null)));
            Assert.NotNull(errors[1]);
            foreach (var i in new[] { 0, 2 })
            {
                var io = Assert.IsType<IOException>(errors[i]);
                Assert.Contains("the copy to another member failed", io.Message);
            }
        }

        [Fact]
        public void AConsumerThatFailsBeforeTheOthersJoinedLeavesNoneWaiting()
        {
            var fanOut = new PayloadFanOut(Write("early.tar.zst"), "snapshot.db", 3);
            Assert.Throws<IOException>(() => fanOut.Consume(_ => throw new IOException("ssh: connect to host 10.0.0.12 port 22: Connection refused")));
            // The others come later (their lanes were already running): each fails at once, naming why.
            var errors = RunAtOnce(() => fanOut.Consume(p => p.CopyTo(Stream.Null)), () => fanOut.Consume(p => p.CopyTo(Stream.Null)));
            Assert.All(errors, ex => Assert.Contains("Connection refused", ex.Message));
        }
    }
}
