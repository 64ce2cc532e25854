using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Etcd;
using ClusterDR.Safety;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Where the engine's time goes: each stage of EtcdBackup.Run on its own (same public classes),
    /// the whole engine in its variants (compression, the gateway of Windows PowerShell, the -Node path),
    /// plus the raw cost of some ingredients over an etcdctl snapshot file that is in the page cache.
    /// Runs in this process, warm (JIT done by the earlier steps), on the largest database.
    /// </summary>
    public sealed class Breakdown
    {
        public sealed class Step
        {
            public string Name, What;
            public double WallS, SelfCpuS, EtcdCpuS, OtherCpuS;
            public long Bytes;
            public string Extra;
        }

        public long DbSize;
        public long SnapshotBytes, GzipBytes, ArchiveBytes, Announced;
        public readonly List<Step> Steps = new List<Step>();

        private readonly EtcdFixture _etcd;
        private readonly CancellationToken _ct;

        private Breakdown(EtcdFixture etcd, CancellationToken ct) { _etcd = etcd; _ct = ct; }

        public int Passes;

        /// <summary>The fastest of <paramref name="passes"/> passes of each step (noise from other work only ever adds time).</summary>
        public IEnumerable<Step> Best => Steps.GroupBy(s => s.Name).Select(g => g.OrderBy(s => s.WallS).First());

        public static Breakdown Run(EtcdFixture etcd, string dir, string etcdctl, int passes, Action<string> log, CancellationToken ct)
        {
            var b = new Breakdown(etcd, ct) { DbSize = etcd.Status(ct).DbSize, Passes = passes };
            for (int i = 1; i <= passes; i++)
            {
                log($" pass {i} of {passes}");
                b.Pass(Path.Combine(dir, "pass" + i), etcdctl, log);
            }
            return b;
        }

        private void Pass(string dir, string etcdctl, Action<string> log)
        {
            var b = this;
            var etcd = _etcd;
            var ct = _ct;
            Directory.CreateDirectory(dir);
            string snap = Path.Combine(dir, "etcdctl.db");
            try
            {
                b.Time("etcdctl snapshot save (reference)", "gRPC stream, write, fsync; CPU = etcdctl's", () =>
                {
                    b.RunChild(etcdctl, new[] { "--endpoints", etcd.Url.ToString().TrimEnd('/'), "snapshot", "save", snap }, ct);
                    return new FileInfo(snap).Length;
                }, log);
                b.SnapshotBytes = new FileInfo(snap).Length;

                b.Time("A. gRPC snapshot -> Stream.Null", "EtcdClient.Snapshot as the engine calls it (HTTP/2, hand-parsed protobuf), bytes discarded", () =>
                {
                    long announced = -1;
                    using (var c = new EtcdClient(etcd.Url)) { long n = c.Snapshot(Stream.Null, size => announced = size, null, ct); b.Announced = announced; return n; }
                }, log, () => $"size announced by the 1st message: {b.Announced} ({(b.Announced == b.SnapshotBytes ? "= file size" : "file is " + b.SnapshotBytes)})");

                b.Time("B. A + 2x SHA-256 -> Stream.Null", "A + the two hashes the engine computes (manifest SHA-256 of the file, EtcdSnapshotCheck of the trailer)", () =>
                {
                    var check = new EtcdSnapshotCheck("breakdown");
                    using (var hashing = new HashingStream(Stream.Null, leaveOpen: true))
                    using (var tee = new Tee(hashing, check))
                    using (var c = new EtcdClient(etcd.Url))
                    {
                        long n = c.Snapshot(tee, null, ct);
                        check.Complete();
                        return n;
                    }
                }, log);

                b.Time("C. pre-flight only", "what the engine does before the snapshot: endpoint status, member list + every member's status, quorum guard", () =>
                {
                    using (var c = new EtcdClient(etcd.Url)) c.Status(ct);
                    var st = EtcdStatusReader.Read(new[] { etcd.Url }, null, ct);
                    return st.MemberCount;
                }, log);

                b.Time("D. engine (EtcdBackup.Run, defaults)", "pre-flight + gRPC + 2x SHA-256 + tar, stored (NoCompression) straight into .partial, manifest patched at the front, fsync, rename", () =>
                    Engine(dir, "d", new EtcdBackupRequest { Endpoint = etcd.Url }), log, () => $"archive {b.ArchiveBytes / 1048576.0:0.0} MB");

                b.Time("E. engine, -CompressionLevel Fastest", "D with gzip Fastest in the same pass", () =>
                    Engine(dir, "e", new EtcdBackupRequest { Endpoint = etcd.Url, CompressionLevel = CompressionLevel.Fastest }), log, () => $"archive {b.ArchiveBytes / 1048576.0:0.0} MB");

                b.Time("F. engine over the JSON gateway", "D as Windows PowerShell 5.1 runs it (no HTTP/2 there): base64-in-JSON stream", () =>
                    Engine(dir, "f", new EtcdBackupRequest { Endpoint = etcd.Url, Protocol = EtcdSnapshotProtocol.Gateway }), log);

                b.Time("G. SHA-256, one pass over the file", "SHA256.TransformBlock over etcdctl's file in the page cache", () =>
                {
                    using (var sha = SHA256.Create())
                    {
                        long n = ReadAll(snap, (buf, c) => sha.TransformBlock(buf, 0, c, null, 0));
                        sha.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
                        return n;
                    }
                }, log);
                b.Time("H. gzip Fastest -> Stream.Null", "GZipStream(CompressionLevel.Fastest) over the file", () =>
                {
                    var counter = new CountingNull();
                    long n;
                    using (var gz = new GZipStream(counter, CompressionLevel.Fastest, leaveOpen: true))
                        n = ReadAll(snap, (buf, c) => gz.Write(buf, 0, c));
                    b.GzipBytes = counter.Count;
                    return n;
                }, log, () => $"{b.GzipBytes / 1048576.0:0.0} MB out ({100.0 * b.GzipBytes / b.SnapshotBytes:0}%)");
                b.Time("J. plain file copy + fsync", "read the file, write a new one with a 64 KB FileStream, Flush(true): the disk's share", () =>
                {
                    string copy = Path.Combine(dir, "copy.db");
                    try
                    {
                        using (var dst = new FileStream(copy, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                        {
                            long n = ReadAll(snap, (buf, c) => dst.Write(buf, 0, c));
                            dst.Flush(true);
                            return n;
                        }
                    }
                    finally { File.Delete(copy); }
                }, log);

                b.Time("K. engine, Shell = LocalShell", "EtcdBackup.Run's -Node path, as is: etcdctl snapshot save to a temp file + cat into staging (size unknown up front), then the archive; CPU includes etcdctl, sh, cat", () =>
                    Engine(dir, "k", new EtcdBackupRequest { Endpoint = etcd.Url, Shell = new ClusterDR.Transport.LocalShell(), Etcdctl = etcdctl }), log);
            }
            finally
            {
                try { Directory.Delete(dir, true); } catch { }
            }
        }

        /// <summary>One engine backup into its own directory; the archive is deleted, its size kept.</summary>
        private long Engine(string dir, string name, EtcdBackupRequest req)
        {
            req.Directory = Path.Combine(dir, name);
            var r = EtcdBackup.Run(req, new BenchContext(_ct));
            ArchiveBytes = r.SizeBytes;
            File.Delete(r.Path);
            return SnapshotBytes;
        }

        private void Time(string name, string what, Func<long> body, Action<string> log, Func<string> extra = null)
        {
            _ct.ThrowIfCancellationRequested();
            GC.Collect();
            Thread.Sleep(300);
            double children0 = ChildrenCpuS();
            var self = Process.GetCurrentProcess();
            double cpu0 = self.TotalProcessorTime.TotalSeconds, etcd0 = _etcd.CpuS, busy0 = ProcStatus.MachineBusyS();
            var sw = Stopwatch.StartNew();
            long bytes = body();
            sw.Stop();
            self.Refresh();
            double busy1 = ProcStatus.MachineBusyS();
            double children = ChildrenCpuS() - children0;
            var s = new Step
            {
                Name = name, What = what, WallS = sw.Elapsed.TotalSeconds, Bytes = bytes,
                SelfCpuS = self.TotalProcessorTime.TotalSeconds - cpu0 + children, EtcdCpuS = _etcd.CpuS - etcd0,
            };
            s.OtherCpuS = Math.Max(0, busy1 - busy0 - s.SelfCpuS - s.EtcdCpuS);
            s.Extra = extra?.Invoke();
            Steps.Add(s);
            log($"  {name}: {s.WallS:0.00} s, client {s.SelfCpuS:0.00} s CPU, etcd {s.EtcdCpuS:0.00} s CPU, others {s.OtherCpuS:0.00} s {s.Extra}");
        }

        /// <summary>CPU (user+sys) of this process's waited-for children so far (getrusage RUSAGE_CHILDREN, via /proc/self/stat cutime+cstime).</summary>
        private static double ChildrenCpuS()
        {
            string st = File.ReadAllText("/proc/self/stat");
            var f = st.Substring(st.LastIndexOf(')') + 2).Split(' ');
            return (long.Parse(f[13], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(f[14], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
        }

        /// <summary>Runs a child to completion; Time adds its CPU to the step's client CPU.</summary>
        private void RunChild(string exe, string[] args, CancellationToken ct)
        {
            var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment["ETCDCTL_API"] = "3";
            using (var p = Process.Start(psi))
            {
                var so = p.StandardOutput.ReadToEndAsync();
                string err = p.StandardError.ReadToEnd();
                try { p.WaitForExitAsync(ct).GetAwaiter().GetResult(); }
                catch (OperationCanceledException) { try { p.Kill(true); } catch { } throw; }
                so.GetAwaiter().GetResult();
                if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed ({p.ExitCode}): {err}");
            }
        }

        private static long ReadAll(string path, Action<byte[], int> each)
        {
            var buf = new byte[1 << 16];
            long total = 0;
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            {
                int n;
                while ((n = f.Read(buf, 0, buf.Length)) > 0) { each(buf, n); total += n; }
            }
            return total;
        }

        private sealed class Tee : Stream
        {
            private readonly Stream _a, _b;
            public Tee(Stream a, Stream b) { _a = a; _b = b; }
            public override void Write(byte[] buffer, int offset, int count) { _a.Write(buffer, offset, count); _b.Write(buffer, offset, count); }
            public override void Flush() { _a.Flush(); _b.Flush(); }
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }

        private sealed class CountingNull : Stream
        {
            public long Count;
            public override void Write(byte[] buffer, int offset, int count) => Count += count;
            public override void Flush() { }
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => Count;
            public override long Position { get => Count; set => throw new NotSupportedException(); }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }

    /// <summary>SilentContext, but cancellable (for the in-process breakdown).</summary>
    public sealed class BenchContext : IOperationContext
    {
        public BenchContext(CancellationToken ct) { Cancellation = ct; }
        public Decision ShouldProcess(string target, string action) => Decision.Proceed;
        public void WriteVerbose(string message) { }
        public void WriteWarning(string message) { }
        public void WriteDebug(string message) { }
        public void WriteProgress(ProgressInfo progress) { }
        public CancellationToken Cancellation { get; }
    }
}
