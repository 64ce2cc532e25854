using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.IO;
using System.IO.Compression;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using ClusterDR.Backups;
using ClusterDR.Etcd;
using ClusterDR.Safety;
using ICSharpCode.SharpZipLib.Tar;

namespace ClusterDR.Bench
{
    /// <summary>
    /// Where the engine's time goes: each stage of EtcdBackup.Run on its own (same public classes,
    /// same buffer sizes), plus the raw cost of each ingredient over an etcdctl snapshot file that
    /// is in the page cache. Runs in this process, one pass each, on the largest database.
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
        public long SnapshotBytes, JsonBytes, Lines, GzipBytes, ArchiveBytes, P3Bytes;
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

                b.Time("A0. curl gateway -> /dev/null", "the JSON gateway read by curl (not .NET): the gateway's floor on this machine; CPU = curl's", () =>
                {
                    b.RunChild("curl", new[] { "-sS", "--fail", "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}", "-o", "/dev/null", etcd.Url + "v3/maintenance/snapshot" }, ct);
                    return b.SnapshotBytes;
                }, log);

                b.Time("A. gateway bytes only", "POST /v3/maintenance/snapshot, read the JSON body into a buffer, no decoding", () =>
                {
                    using (var http = new HttpClient { BaseAddress = etcd.Url, Timeout = Timeout.InfiniteTimeSpan })
                    using (var req = new HttpRequestMessage(HttpMethod.Post, "/v3/maintenance/snapshot") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
                    using (var resp = http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).GetAwaiter().GetResult())
                    using (var body = resp.Content.ReadAsStream(ct))
                    {
                        var buf = new byte[1 << 16];
                        long n = 0, lines = 0;
                        int r;
                        while ((r = body.Read(buf, 0, buf.Length)) > 0)
                        {
                            n += r;
                            lines += buf.AsSpan(0, r).Count((byte)'\n');
                        }
                        b.JsonBytes = n; b.Lines = lines;
                        return n;
                    }
                }, log);

                b.Time("B. EtcdClient.Snapshot -> Stream.Null", "A + StreamReader.ReadLine (UTF-8 -> UTF-16 string per line) + Substring + Convert.FromBase64String", () =>
                {
                    using (var c = new EtcdClient(etcd.Url)) return c.Snapshot(Stream.Null, null, ct);
                }, log);

                b.Time("C. B + 2x SHA-256 -> Stream.Null", "B + the two hashes the engine computes while staging (HashingStream, EtcdSnapshotCheck)", () =>
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

                // D + E are exactly EtcdBackup.Run's payload step, split at AddPayload / Commit.
                var writer = BackupArchiveWriter.Create(Path.Combine(dir, "engine"), BackupArchiveWriter.DefaultFileName("etcd", "breakdown", null, DateTime.UtcNow));
                try
                {
                    b.Time("D. engine stage (AddPayload)", "C, but into the 64 KB-buffered staging FileStream (no fsync)", () =>
                    {
                        var check = new EtcdSnapshotCheck("breakdown");
                        var entry = writer.AddPayload(EtcdBackup.SnapshotFile, sink =>
                        {
                            using (var tee = new Tee(sink, check))
                            using (var c = new EtcdClient(etcd.Url)) c.Snapshot(tee, null, ct);
                        });
                        check.Complete();
                        return entry.Size;
                    }, log);
                    b.Time("E. engine commit (Commit)", "read staging, tar (SharpZipLib), gzip Fastest, write .partial, fsync, rename", () =>
                    {
                        var result = writer.Commit(new BackupManifest { Kind = "etcd", Cluster = "breakdown", CreatedUtc = DateTime.UtcNow }, new BenchContext(ct));
                        b.ArchiveBytes = result.SizeBytes;
                        return b.SnapshotBytes;
                    }, log);
                }
                finally { writer.Dispose(); }

                b.Time("F. read the file (page cache)", "FileStream 64 KB, SequentialScan -> nothing", () => ReadAll(snap, (buf, n) => { }), log);
                b.Time("G. SHA-256, one pass", "SHA256.TransformBlock over the file (the engine does two while staging)", () =>
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
                b.Time("I. tar only -> Stream.Null", "SharpZipLib TarOutputStream, no compression", () =>
                {
                    using (var tar = new TarOutputStream(Stream.Null, Encoding.UTF8) { IsStreamOwner = false })
                    {
                        var e = TarEntry.CreateTarEntry(EtcdBackup.SnapshotFile);
                        e.Size = new FileInfo(snap).Length;
                        tar.PutNextEntry(e);
                        long n = ReadAll(snap, (buf, c) => tar.Write(buf, 0, c));
                        tar.CloseEntry();
                        tar.Finish();
                        return n;
                    }
                }, log);
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

                b.Time("K. engine, Shell = LocalShell", "EtcdBackup.Run's other path, as is: etcdctl snapshot save to a temp file + cat into staging, then commit; CPU includes etcdctl, sh, cat", () =>
                {
                    var r = EtcdBackup.Run(new EtcdBackupRequest { Endpoint = etcd.Url, Directory = Path.Combine(dir, "local"), Shell = new ClusterDR.Transport.LocalShell(), Etcdctl = etcdctl }, new BenchContext(ct));
                    File.Delete(r.Path);
                    return b.SnapshotBytes;
                }, log);

                // What-if prototypes: NOT engine code, only to size the suggestions in the report.
                b.Time("P1. gateway, byte-level decode -> Stream.Null", "prototype: no StreamReader/strings; find \"blob\":\" in the raw bytes, Base64.DecodeFromUtf8InPlace", () =>
                    Prototypes.GatewayFastDecode(etcd.Url, Stream.Null, ct), log);
                long announced = -1;
                b.Time("P2. gRPC (h2c) -> Stream.Null", "prototype: POST /etcdserverpb.Maintenance/Snapshot over HTTP/2, hand-parsed protobuf (what etcdctl does)", () =>
                    Prototypes.GrpcSnapshot(etcd.Url, Stream.Null, ct, size => announced = size), log,
                    () => $"size announced by the 1st message: {announced} ({(announced == b.SnapshotBytes ? "= file size" : "file is " + b.SnapshotBytes)})");
                b.Time("P3. gRPC -> 2x SHA-256 -> gzip Fastest -> file + fsync", "prototype of a single-pass design: no staging file, compress while receiving (one thread)", () =>
                {
                    string gz = Path.Combine(dir, "p3.gz");
                    try
                    {
                        using (var file = new FileStream(gz, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                        {
                            var check = new EtcdSnapshotCheck("p3");
                            long n;
                            using (var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true))
                            using (var hashing = new HashingStream(gzip, leaveOpen: true))
                            using (var tee = new Tee(hashing, check))
                                n = Prototypes.GrpcSnapshot(etcd.Url, tee, ct);
                            check.Complete();
                            file.Flush(true);
                            b.P3Bytes = file.Length;
                            return n;
                        }
                    }
                    finally { File.Delete(gz); }
                }, log, () => $"{b.P3Bytes / 1048576.0:0.0} MB out");
                b.Time("P4. gRPC -> 2x SHA-256 -> [thread] gzip Fastest -> file + fsync", "P3 with compression on a second thread (bounded queue of 16 chunks of about 32 KB: memory stays flat)", () =>
                {
                    string gz = Path.Combine(dir, "p4.gz");
                    try
                    {
                        using (var file = new FileStream(gz, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                        {
                            var check = new EtcdSnapshotCheck("p4");
                            long n;
                            using (var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true))
                            {
                                using (var pipe = new Prototypes.PipeStream(gzip, 16))
                                using (var hashing = new HashingStream(pipe, leaveOpen: true))
                                using (var tee = new Tee(hashing, check))
                                    n = Prototypes.GrpcSnapshot(etcd.Url, tee, ct);
                            }
                            check.Complete();
                            file.Flush(true);
                            return n;
                        }
                    }
                    finally { File.Delete(gz); }
                }, log);
                b.Time("P5. gRPC -> 2x SHA-256 -> tar, no gzip -> file + fsync", "prototype: single pass, uncompressed tar; the tar header uses the size the first gRPC message announces", () =>
                {
                    string tarPath = Path.Combine(dir, "p5.tar");
                    try
                    {
                        using (var file = new FileStream(tarPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                        {
                            var check = new EtcdSnapshotCheck("p5");
                            long n;
                            using (var tar = new TarOutputStream(file, Encoding.UTF8) { IsStreamOwner = false })
                            {
                                using (var hashing = new HashingStream(tar, leaveOpen: true))
                                using (var tee = new Tee(hashing, check))
                                    n = Prototypes.GrpcSnapshot(etcd.Url, tee, ct, size =>
                                    {
                                        var e = TarEntry.CreateTarEntry(EtcdBackup.SnapshotFile);
                                        e.Size = size;
                                        tar.PutNextEntry(e);
                                    });
                                tar.CloseEntry();
                                tar.Finish();
                            }
                            check.Complete();
                            file.Flush(true);
                            return n;
                        }
                    }
                    finally { File.Delete(tarPath); }
                }, log);
            }
            finally
            {
                try { Directory.Delete(dir, true); } catch { }
            }
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
        public void WriteProgress(ProgressInfo progress) { }
        public CancellationToken Cancellation { get; }
    }
}
