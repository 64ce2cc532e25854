using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Etcd;

namespace ClusterDR.Bench
{
    /// <summary>
    /// One etcd member on 127.0.0.1, started with tests/tools/etcd-cluster.sh (so it writes
    /// DIR/e1/stop.sh, which stops it by PID) and filled through the v3 JSON gateway.
    /// </summary>
    public sealed class EtcdFixture : IDisposable
    {
        public const long QuotaBytes = 8L << 30;
        private readonly string _dir;
        private readonly HttpClient _http;
        private int _stopped;
        private long _nextKey;

        private EtcdFixture(string dir, Uri url, int pid)
        {
            _dir = dir; Url = url; Pid = pid;
            _http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        }

        public Uri Url { get; }
        public int Pid { get; }
        public string DataDir => Path.Combine(_dir, "e1", "data");
        public string QuotaLogLine { get; private set; }
        public long PutCount => Interlocked.Read(ref _nextKey);
        public long PutBytes { get; private set; }

        public static string FindClusterScript(string given)
        {
            if (given != null)
                return File.Exists(given) ? Path.GetFullPath(given) : throw new FileNotFoundException("--cluster-script not found", given);
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                {
                    string f = Path.Combine(d.FullName, "tests", "tools", "etcd-cluster.sh");
                    if (File.Exists(f)) return f;
                }
            }
            throw new FileNotFoundException("tests/tools/etcd-cluster.sh not found above the current directory; pass --cluster-script.");
        }

        /// <summary>First base port at or above <paramref name="basePort"/> whose client and peer ports are free.</summary>
        public static int FreeBasePort(int basePort)
        {
            for (int b = basePort; b < basePort + 200; b += 10)
                if (PortFree(b + 2) && PortFree(b + 3)) return b;
            throw new InvalidOperationException($"No free port pair near {basePort}.");
        }

        private static bool PortFree(int port)
        {
            try { var l = new TcpListener(IPAddress.Loopback, port); l.Start(); l.Stop(); return true; }
            catch (SocketException) { return false; }
        }

        /// <summary>Starts the member; on any failure stops whatever was started.</summary>
        public static EtcdFixture Start(string script, string dir, int basePort, Action<string> log, CancellationToken ct)
        {
            var psi = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { script, "start", dir, "1", basePort.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
            // etcd reads ETCD_* variables for flags not given on its command line; start.sh passes them on.
            psi.Environment["ETCD_QUOTA_BACKEND_BYTES"] = QuotaBytes.ToString(CultureInfo.InvariantCulture);
            using (var p = Process.Start(psi))
            {
                string so = p.StandardOutput.ReadToEnd(), se = p.StandardError.ReadToEnd();
                p.WaitForExit();
                log($"etcd-cluster.sh start: {so.Trim()} {se.Trim()}".Trim());
                if (p.ExitCode != 0) { StopDir(dir); throw new InvalidOperationException($"etcd-cluster.sh start failed ({p.ExitCode}): {se}"); }
            }
            string pidFile = Path.Combine(dir, "e1", "pid");
            var fixture = new EtcdFixture(dir, new Uri($"http://127.0.0.1:{basePort + 2}/"), int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
            try
            {
                var sw = Stopwatch.StartNew();
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    if (!Directory.Exists($"/proc/{fixture.Pid}")) throw new InvalidOperationException("etcd exited at start; see " + Path.Combine(dir, "e1", "etcd.log") + ":\n" + Tail(Path.Combine(dir, "e1", "etcd.log")));
                    try
                    {
                        using (var r = fixture._http.GetAsync("/health", ct).GetAwaiter().GetResult())
                            if (r.IsSuccessStatusCode && r.Content.ReadAsStringAsync().GetAwaiter().GetResult().Contains("true")) break;
                    }
                    catch (HttpRequestException) { }
                    if (sw.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("etcd not healthy after 30 s");
                    Thread.Sleep(100);
                }
                log($"etcd pid {fixture.Pid} healthy on {fixture.Url} after {sw.Elapsed.TotalSeconds:0.0} s");
                fixture.QuotaLogLine = File.ReadLines(Path.Combine(dir, "e1", "etcd.log")).FirstOrDefault(l => l.Contains("ETCD_QUOTA_BACKEND_BYTES"))?.Trim();
                if (fixture.QuotaLogLine == null) log("warning: etcd did not log that it used ETCD_QUOTA_BACKEND_BYTES (default 2 GB quota applies)");
                return fixture;
            }
            catch
            {
                fixture.Dispose();
                throw;
            }
        }

        private static string Tail(string file)
        {
            try { return string.Join("\n", File.ReadLines(file).TakeLast(20)); } catch { return ""; }
        }

        public EtcdEndpointStatus Status(CancellationToken ct)
        {
            using (var c = new EtcdClient(Url)) return c.Status(ct);
        }

        /// <summary>PUTs fresh keys until the member's dbSize reaches <paramref name="targetBytes"/>.</summary>
        public EtcdEndpointStatus FillTo(long targetBytes, int valueKb, int writers, Action<string> log, CancellationToken ct)
        {
            var sw = Stopwatch.StartNew();
            long valueBytes = valueKb * 1024L;
            var status = Status(ct);
            while (status.DbSize < targetBytes)
            {
                ct.ThrowIfCancellationRequested();
                long missing = targetBytes - status.DbSize;
                int batch = (int)Math.Clamp((missing + valueBytes - 1) / valueBytes, 1, 64);
                Parallel.For(0, batch, new ParallelOptions { MaxDegreeOfParallelism = writers, CancellationToken = ct }, _ => Put(valueBytes, ct));
                status = Status(ct);
                log($"  filled: dbSize {status.DbSize / 1048576.0:0.0} MB of {targetBytes / 1048576.0:0} MB, {PutCount} keys, {sw.Elapsed.TotalSeconds:0.0} s");
            }
            if (status.Errors.Length > 0) throw new InvalidOperationException("etcd reports errors (quota alarm?): " + string.Join("; ", status.Errors));
            return status;
        }

        private void Put(long valueBytes, CancellationToken ct)
        {
            long n = Interlocked.Increment(ref _nextKey);
            var rng = new Random(unchecked((int)(n * 7919)));
            byte[] value = Payload.Make(rng, (int)valueBytes, n);
            string key = Convert.ToBase64String(Encoding.ASCII.GetBytes($"/bench/objects/{n:D8}"));
            string json = "{\"key\":\"" + key + "\",\"value\":\"" + Convert.ToBase64String(value) + "\"}";
            using (var content = new StringContent(json, Encoding.ASCII, "application/json"))
            using (var r = _http.PostAsync("/v3/kv/put", content, ct).GetAwaiter().GetResult())
            {
                string body = r.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                if (!r.IsSuccessStatusCode || body.Contains("\"error\""))
                    throw new InvalidOperationException($"PUT {n} failed: {(int)r.StatusCode} {body.Substring(0, Math.Min(300, body.Length))}");
            }
            lock (_http) PutBytes += valueBytes;
        }

        public double CpuS => ProcStatus.ProcessCpuS(Pid);
        public long RssKb => ProcStatus.Kb($"/proc/{Pid}/status", "VmRSS");

        private static void StopDir(string dir)
        {
            string stop = Path.Combine(dir, "e1", "stop.sh");
            if (!File.Exists(stop)) return;
            using (var p = Process.Start(new ProcessStartInfo("sh") { ArgumentList = { stop }, UseShellExecute = false }))
                p.WaitForExit();
        }

        /// <summary>Stops etcd by PID (stop.sh waits until it is gone). Safe to call twice and from a signal handler.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
            _http.Dispose();
            StopDir(_dir);
        }
    }

    /// <summary>Values that look a bit like real etcd data: half random bytes, half repetitive JSON-ish text.</summary>
    public static class Payload
    {
        private static readonly string[] Words = { "apiVersion", "kind", "metadata", "namespace", "labels", "annotations", "spec", "status", "containers", "image", "resources", "limits", "requests", "conditions", "lastTransitionTime", "ownerReferences", "uid", "resourceVersion", "managedFields" };

        public static byte[] Make(Random rng, int size, long n)
        {
            var buf = new byte[size];
            const int block = 4096;
            var sb = new StringBuilder(block + 256);
            for (int off = 0; off < size; off += block)
            {
                int len = Math.Min(block, size - off);
                if (rng.Next(2) == 0)
                {
                    rng.NextBytes(buf.AsSpan(off, len));
                    continue;
                }
                sb.Clear();
                while (sb.Length < len)
                    sb.Append("{\"").Append(Words[rng.Next(Words.Length)]).Append("\":\"").Append(Words[rng.Next(Words.Length)])
                      .Append('-').Append(n).Append('-').Append(rng.Next(100000).ToString("x", CultureInfo.InvariantCulture)).Append("\"},");
                Encoding.ASCII.GetBytes(sb.ToString(0, len), 0, len, buf, off);
            }
            return buf;
        }
    }
}
