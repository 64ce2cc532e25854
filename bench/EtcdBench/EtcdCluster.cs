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
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Bench.Common;

namespace ClusterDR.Bench
{
    public sealed class EtcdMember
    {
        public string Name, PeerUrl, ClientUrl, DataDir, Dir;
        public string StartScript => Path.Combine(Dir, "start.sh");
        public string StopScript => Path.Combine(Dir, "stop.sh");
        /// <summary>The running etcd's PID, or -1 (start.sh writes DIR/pid).</summary>
        public int Pid
        {
            get
            {
                try { return int.Parse(File.ReadAllText(Path.Combine(Dir, "pid")).Trim(), CultureInfo.InvariantCulture); }
                catch (Exception ex) when (ex is IOException || ex is FormatException) { return -1; }
            }
        }
    }

    public sealed class EtcdStatus
    {
        public long DbSize, Revision;
        public string[] Errors = new string[0];
    }

    /// <summary>
    /// A throwaway etcd cluster on 127.0.0.1 made by tests/tools/etcd-cluster.sh (each member gets its
    /// start.sh/stop.sh; stop.sh stops by PID and waits). Filled over gRPC with transactions of many puts, so
    /// small realistic objects still fill gigabytes quickly; status and counts go through the v3 JSON gateway.
    /// </summary>
    public sealed class EtcdCluster : IDisposable
    {
        public const long QuotaBytes = 8L << 30;
        /// <summary>etcd refuses requests over 1.5 MiB; a transaction's raw keys and values stay well under it.</summary>
        public const int TxnMaxBytes = 1_200_000, TxnMaxOps = 128;

        private readonly string _script;
        private readonly HttpClient _http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        private int _stopped;
        private long _next;

        public string Dir { get; }
        public List<EtcdMember> Members { get; } = new List<EtcdMember>();
        public string QuotaLogLine { get; private set; }
        public long PutCount => Interlocked.Read(ref _next);
        public long PutBytes;

        private EtcdCluster(string script, string dir) { _script = script; Dir = dir; }

        public static string FindScript(string repoRoot, string given) =>
            given != null ? Path.GetFullPath(given) : Path.Combine(repoRoot, "tests", "tools", "etcd-cluster.sh");

        /// <summary>A base port at or above <paramref name="from"/> whose SIZE client and peer ports are all free.</summary>
        public static int FreeBasePort(int from, int size)
        {
            for (int b = from; b < from + 2000; b += 2 * size + 4)
                if (Enumerable.Range(1, size).All(i => PortFree(b + 2 * i) && PortFree(b + 2 * i + 1))) return b;
            throw new InvalidOperationException($"No free ports near {from}.");
        }

        private static bool PortFree(int port)
        {
            try { var l = new TcpListener(IPAddress.Loopback, port); l.Start(); l.Stop(); return true; }
            catch (SocketException) { return false; }
        }

        /// <summary>Starts SIZE members and waits until all are healthy; on failure stops whatever started.</summary>
        public static EtcdCluster Start(string script, string dir, int size, int basePort, Action<string> log, CancellationToken ct)
        {
            var c = new EtcdCluster(script, dir);
            try
            {
                // ETCD_QUOTA_BACKEND_BYTES is in this process's environment (Program sets it), so start.sh
                // passes it to etcd here and whenever a cmdlet or script restarts a member.
                var m = Meter.Run(new Command("sh", script, "start", dir, size.ToString(CultureInfo.InvariantCulture), basePort.ToString(CultureInfo.InvariantCulture)), null, ct);
                foreach (var line in m.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var f = line.Trim().Split(' ');
                    c.Members.Add(new EtcdMember { Name = f[0], PeerUrl = f[1], ClientUrl = f[2], DataDir = f[3], Dir = Path.GetDirectoryName(f[3]) });
                }
                var sw = Stopwatch.StartNew();
                c.WaitHealthy(TimeSpan.FromSeconds(60), ct);
                log($"etcd cluster of {size} in {dir} healthy after {sw.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", c.Members.Select(x => x.Name + " pid " + x.Pid + " " + x.ClientUrl))}");
                c.QuotaLogLine = File.ReadLines(Path.Combine(c.Members[0].Dir, "etcd.log")).FirstOrDefault(l => l.Contains("ETCD_QUOTA_BACKEND_BYTES"))?.Trim();
                if (c.QuotaLogLine == null) log("warning: etcd did not log ETCD_QUOTA_BACKEND_BYTES (its default 2 GB quota applies)");
                return c;
            }
            catch
            {
                c.Dispose();
                throw;
            }
        }

        public void WaitHealthy(TimeSpan timeout, CancellationToken ct)
        {
            var sw = Stopwatch.StartNew();
            while (!Members.All(x => Healthy(x, ct)))
            {
                ct.ThrowIfCancellationRequested();
                foreach (var x in Members)
                    if (x.Pid > 0 && !Proc.IsAlive(x.Pid))
                        throw new InvalidOperationException($"etcd {x.Name} exited; {Path.Combine(x.Dir, "etcd.log")}:\n" + string.Join("\n", File.ReadLines(Path.Combine(x.Dir, "etcd.log")).TakeLast(15)));
                if (sw.Elapsed > timeout) throw new TimeoutException($"etcd cluster in {Dir} not healthy after {timeout.TotalSeconds:0} s");
                Thread.Sleep(100);
            }
        }

        public bool Healthy(EtcdMember m, CancellationToken ct)
        {
            try
            {
                using (var r = _http.GetAsync(m.ClientUrl + "/health", ct).GetAwaiter().GetResult())
                    return r.IsSuccessStatusCode && r.Content.ReadAsStringAsync(ct).GetAwaiter().GetResult().Contains("\"true\"");
            }
            catch (HttpRequestException) { return false; }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
        }

        private JsonElement Post(string url, string path, string json, CancellationToken ct)
        {
            using (var content = new StringContent(json, Encoding.ASCII, "application/json"))
            using (var r = _http.PostAsync(url + path, content, ct).GetAwaiter().GetResult())
            {
                string body = r.Content.ReadAsStringAsync(ct).GetAwaiter().GetResult();
                if (!r.IsSuccessStatusCode || body.Contains("\"error\""))
                    throw new InvalidOperationException($"POST {path} failed: {(int)r.StatusCode} {body.Substring(0, Math.Min(300, body.Length))}");
                return JsonDocument.Parse(body).RootElement.Clone();
            }
        }

        private static long Num(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) ? (v.ValueKind == JsonValueKind.String ? long.Parse(v.GetString(), CultureInfo.InvariantCulture) : v.GetInt64()) : 0;

        public EtcdStatus Status(EtcdMember m, CancellationToken ct)
        {
            var j = Post(m.ClientUrl, "/v3/maintenance/status", "{}", ct);
            var s = new EtcdStatus { DbSize = Num(j, "dbSize"), Revision = Num(j.GetProperty("header"), "revision") };
            if (j.TryGetProperty("errors", out var e)) s.Errors = e.EnumerateArray().Select(x => x.GetString()).ToArray();
            return s;
        }

        public EtcdStatus Status(CancellationToken ct) => Status(Members[0], ct);

        /// <summary>Keys under PREFIX as member M itself serves them (serializable: no quorum round trip, so it proves that member holds the data).</summary>
        public long CountKeys(EtcdMember m, string prefix, CancellationToken ct)
        {
            string k = Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix));
            string end = Convert.ToBase64String(PrefixEnd(Encoding.UTF8.GetBytes(prefix)));
            var j = Post(m.ClientUrl, "/v3/kv/range", "{\"key\":\"" + k + "\",\"range_end\":\"" + end + "\",\"count_only\":true,\"serializable\":true}", ct);
            return Num(j, "count");
        }

        private static byte[] PrefixEnd(byte[] p)
        {
            var e = (byte[])p.Clone();
            for (int i = e.Length - 1; i >= 0; i--) if (e[i] < 0xff) { e[i]++; return e.Take(i + 1).ToArray(); }
            return new byte[] { 0 };
        }

        /// <summary>Writes items of DATA (continuing where the last call stopped) until dbSize reaches TARGET.</summary>
        public EtcdStatus FillTo(IDataSet data, long targetBytes, int writers, Action<string> log, CancellationToken ct)
        {
            var sw = Stopwatch.StartNew();
            var status = Status(ct);
            var lastLog = Stopwatch.StartNew();
            while (status.DbSize < targetBytes)
            {
                ct.ThrowIfCancellationRequested();
                // A round of transactions sized to the missing bytes (bbolt grows in steps, so re-check often).
                long missing = targetBytes - status.DbSize;
                int txns = (int)Math.Clamp(missing / (TxnMaxBytes / 2) + 1, 1, 16 * writers);
                Parallel.For(0, txns, new ParallelOptions { MaxDegreeOfParallelism = writers, CancellationToken = ct }, _ => PutTxn(data, ct));
                status = Status(ct);
                if (status.Errors.Length > 0) throw new InvalidOperationException("etcd reports errors (quota alarm?): " + string.Join("; ", status.Errors));
                if (lastLog.Elapsed.TotalSeconds >= 5 || status.DbSize >= targetBytes)
                {
                    log($"  filled: dbSize {status.DbSize / 1048576.0:0} MB of {targetBytes / 1048576.0:0} MB, {PutCount} keys, {Interlocked.Read(ref PutBytes) / 1048576.0:0} MB of values, {sw.Elapsed.TotalSeconds:0} s");
                    lastLog.Restart();
                }
            }
            return status;
        }

        /// <summary>
        /// One KV/Txn of many puts over gRPC (HTTP/2 without TLS): the JSON gateway would make etcd decode base64 JSON
        /// and proxy it to itself, which halves the fill rate. Hand-encoded protobuf: TxnRequest{2: success =
        /// RequestOp{2: request_put = PutRequest{1: key, 2: value}}}.
        /// </summary>
        private void PutTxn(IDataSet data, CancellationToken ct)
        {
            var body = new MemoryStream(TxnMaxBytes + 64 * 1024);
            body.Write(new byte[5], 0, 5); // gRPC frame header, filled in below
            int ops = 0, bytes = 0;
            while (ops < TxnMaxOps && bytes < TxnMaxBytes - 64 * 1024)
            {
                var kv = data.Item(Interlocked.Increment(ref _next) - 1);
                byte[] key = Encoding.UTF8.GetBytes(kv.Key);
                int put = Field(key.Length) + Field(kv.Value.Length);
                int op = Field(put);
                Tag(body, 2, op);
                Tag(body, 2, put);
                Tag(body, 1, key.Length); body.Write(key, 0, key.Length);
                Tag(body, 2, kv.Value.Length); body.Write(kv.Value, 0, kv.Value.Length);
                ops++;
                bytes += key.Length + kv.Value.Length;
            }
            var buf = body.GetBuffer();
            int len = (int)body.Length - 5;
            buf[1] = (byte)(len >> 24); buf[2] = (byte)(len >> 16); buf[3] = (byte)(len >> 8); buf[4] = (byte)len;
            using (var req = new HttpRequestMessage(HttpMethod.Post, Members[0].ClientUrl + "/etcdserverpb.KV/Txn")
            {
                Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(buf, 0, (int)body.Length),
            })
            {
                req.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
                req.Headers.TryAddWithoutValidation("TE", "trailers");
                using (var r = _http.SendAsync(req, ct).GetAwaiter().GetResult())
                {
                    r.Content.ReadAsByteArrayAsync(ct).GetAwaiter().GetResult();
                    string status = Header(r.TrailingHeaders, "grpc-status") ?? Header(r.Headers, "grpc-status");
                    if (!r.IsSuccessStatusCode || status != "0")
                        throw new InvalidOperationException($"Txn failed: HTTP {(int)r.StatusCode}, grpc-status {status}: {Uri.UnescapeDataString(Header(r.TrailingHeaders, "grpc-message") ?? Header(r.Headers, "grpc-message") ?? "")}");
                }
            }
            Interlocked.Add(ref PutBytes, bytes);
        }

        private static string Header(System.Net.Http.Headers.HttpHeaders h, string name) => h.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;

        /// <summary>Bytes of a length-delimited field (tag + length varint + payload).</summary>
        private static int Field(int len) => 1 + VarintSize((ulong)len) + len;
        private static int VarintSize(ulong v) { int n = 1; while (v >= 0x80) { v >>= 7; n++; } return n; }

        private static void Tag(Stream s, int field, int len)
        {
            s.WriteByte((byte)((field << 3) | 2));
            ulong v = (ulong)len;
            while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
            s.WriteByte((byte)v);
        }

        public double CpuS(EtcdMember m) => Proc.CpuS(m.Pid);
        public long RssKb(EtcdMember m) => Proc.StatusKb(m.Pid, "VmRSS");

        /// <summary>The running members' PIDs by name, for <see cref="Meter.Run"/> to record their CPU.</summary>
        public Dictionary<string, int> Watch() => Members.Where(x => x.Pid > 0).ToDictionary(x => "etcd " + x.Name, x => x.Pid);

        public void Stop(EtcdMember m) => Meter.Run(new Command("sh", m.StopScript));

        /// <summary>Stops every member by PID (etcd-cluster.sh stop waits until they are gone). Safe twice and from a signal handler.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
            _http.Dispose();
            try
            {
                using (var p = Process.Start(new ProcessStartInfo("sh") { ArgumentList = { _script, "stop", Dir }, UseShellExecute = false }))
                    p.WaitForExit();
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception || ex is InvalidOperationException) { Console.Error.WriteLine($"stopping etcd in {Dir}: {ex.Message}"); }
        }
    }
}
