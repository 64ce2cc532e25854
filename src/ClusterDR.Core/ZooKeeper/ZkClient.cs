using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.ZooKeeper
{
    /// <summary>What one ZooKeeper server said about itself (srvr/mntr/conf, or the AdminServer).</summary>
    public sealed class ZkServerInfo
    {
        public bool Serving;
        public string Mode;
        public long Zxid;
        public long ZnodeCount;
        public long Outstanding;
        public double AvgLatency;
        public long MaxLatency;
        public long Ephemerals = -1;
        public string Version;
        public int ServerId;
        public string DataDir;
        public string DataLogDir;
        /// <summary>server.N=… lines of the ensemble's membership (conf), N → role (participant/observer).</summary>
        public Dictionary<int, string> Membership = new Dictionary<int, string>();
        public List<string> MembershipLines = new List<string>();
        public string NotServingText;

        public string ZxidHex => "0x" + Zxid.ToString("x", CultureInfo.InvariantCulture);
    }

    public enum ZkProbeFailure { None, Refused, Other }

    /// <summary>
    /// ZooKeeper's four-letter words over TCP (srvr, mntr, conf) and its AdminServer's JSON commands.
    /// "Serving" means srvr answered with a Mode, not "This ZooKeeper instance is not currently serving requests".
    /// </summary>
    public static class ZkClient
    {
        public const string NotServing = "This ZooKeeper instance is not currently serving requests";

        public static bool TryParseAddress(string address, out string host, out int port)
        {
            host = null; port = 0;
            if (string.IsNullOrWhiteSpace(address)) return false;
            string a = address.Trim();
            int colon = a.LastIndexOf(':');
            if (colon <= 0) return false;
            host = a.Substring(0, colon).Trim('[', ']');
            if (host.Length == 0 || host.IndexOfAny(new[] { ' ', '/', '\'', '"', ';', '$', '`' }) >= 0) return false;
            return int.TryParse(a.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) && port > 0 && port < 65536;
        }

        internal static (string Host, int Port) ParseAddress(string address)
        {
            if (!TryParseAddress(address, out var host, out var port))
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument,
                    $"'{address}' is not a ZooKeeper client address: give host:port, such as 10.0.0.1:2181.", address);
            return (host, port);
        }

        /// <summary>Sends one four-letter word and reads the answer to the end.</summary>
        public static string FourLetter(string address, string word, TimeSpan timeout, CancellationToken ct)
        {
            var (host, port) = ParseAddress(address);
            using (var tcp = new TcpClient())
            {
                var connect = tcp.ConnectAsync(host, port);
                try
                {
                    if (!connect.Wait((int)timeout.TotalMilliseconds, Safety.CancellationScope.Effective(ct)))
                        throw new ZkProbeException(ZkProbeFailure.Other, $"no answer from {address} within {timeout.TotalSeconds:0.#} s");
                }
                catch (AggregateException ex) when (ex.InnerException is SocketException se)
                {
                    throw new ZkProbeException(se.SocketErrorCode == SocketError.ConnectionRefused ? ZkProbeFailure.Refused : ZkProbeFailure.Other,
                        $"{address}: {(se.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : se.Message)}");
                }
                tcp.ReceiveTimeout = tcp.SendTimeout = (int)timeout.TotalMilliseconds;
                try
                {
                    var stream = tcp.GetStream();
                    var bytes = Encoding.ASCII.GetBytes(word);
                    stream.Write(bytes, 0, bytes.Length);
                    using (var ms = new MemoryStream())
                    {
                        stream.CopyTo(ms);
                        return Encoding.UTF8.GetString(ms.ToArray());
                    }
                }
                catch (IOException ex)
                {
                    throw new ZkProbeException(ZkProbeFailure.Other, $"{address}: {ex.InnerException?.Message ?? ex.Message}");
                }
            }
        }

        /// <summary>srvr (or mntr when srvr is not whitelisted), then conf for the id, dirs and membership.</summary>
        public static ZkServerInfo Probe(string address, TimeSpan timeout, CancellationToken ct, bool withConf = true, bool withMntr = false)
        {
            var info = new ZkServerInfo();
            string srvr = FourLetter(address, "srvr", timeout, ct);
            if (srvr.IndexOf("not in the whitelist", StringComparison.OrdinalIgnoreCase) >= 0) withMntr = true;
            else ParseSrvr(srvr, info);
            if (withMntr) ParseMntr(FourLetter(address, "mntr", timeout, ct), info);
            if (withConf)
            {
                string conf = FourLetter(address, "conf", timeout, ct);
                if (conf.IndexOf("not in the whitelist", StringComparison.OrdinalIgnoreCase) < 0) ParseConf(conf, info);
            }
            return info;
        }

        internal static void ParseSrvr(string text, ZkServerInfo info)
        {
            if (text.IndexOf(NotServing, StringComparison.Ordinal) >= 0) { info.Serving = false; info.NotServingText = NotServing; return; }
            foreach (var (k, v) in Lines(text, ':'))
            {
                switch (k)
                {
                    case "Zookeeper version": info.Version = v.Split(',')[0].Trim(); break;
                    case "Latency min/avg/max":
                        var p = v.Split('/');
                        if (p.Length == 3) { info.AvgLatency = D(p[1]); info.MaxLatency = L(p[2]); }
                        break;
                    case "Outstanding": info.Outstanding = L(v); break;
                    case "Zxid": info.Zxid = Hex(v); break;
                    case "Mode": info.Mode = v; break;
                    case "Node count": info.ZnodeCount = L(v); break;
                }
            }
            info.Serving = !string.IsNullOrEmpty(info.Mode);
            if (!info.Serving) info.NotServingText = "srvr printed no Mode";
        }

        internal static void ParseMntr(string text, ZkServerInfo info)
        {
            if (text.IndexOf(NotServing, StringComparison.Ordinal) >= 0) { info.Serving = false; info.NotServingText = NotServing; return; }
            foreach (var (k, v) in Lines(text, '\t'))
            {
                switch (k)
                {
                    case "zk_version": info.Version = info.Version ?? v.Split(',')[0].Trim(); break;
                    case "zk_server_state": info.Mode = info.Mode ?? v; break;
                    case "zk_znode_count": info.ZnodeCount = L(v); break;
                    case "zk_outstanding_requests": info.Outstanding = L(v); break;
                    case "zk_avg_latency": info.AvgLatency = D(v); break;
                    case "zk_max_latency": info.MaxLatency = L(v); break;
                    case "zk_ephemerals_count": info.Ephemerals = L(v); break;
                }
            }
            info.Serving = !string.IsNullOrEmpty(info.Mode);
        }

        internal static void ParseConf(string text, ZkServerInfo info)
        {
            foreach (var raw in text.Split('\n'))
            {
                string line = raw.Trim();
                int eq = line.IndexOf('=');
                if (eq <= 0) continue;
                string k = line.Substring(0, eq), v = line.Substring(eq + 1);
                if (k == "serverId") info.ServerId = (int)L(v);
                else if (k == "dataDir") info.DataDir = StripVersion2(v);
                else if (k == "dataLogDir") info.DataLogDir = StripVersion2(v);
                else if (k.StartsWith("server.", StringComparison.Ordinal) && int.TryParse(k.Substring(7), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                {
                    info.MembershipLines.Add(line);
                    // server.N=host:quorum:election[:role][;client]
                    var addr = v.Split(';')[0].Split(':');
                    info.Membership[id] = addr.Length >= 4 && addr[3] == "observer" ? "observer" : "participant";
                }
            }
        }

        private static string StripVersion2(string dir)
        {
            string d = dir.Trim().TrimEnd('/');
            return d.EndsWith("/version-2", StringComparison.Ordinal) ? d.Substring(0, d.Length - "/version-2".Length) : d;
        }

        /// <summary>The AdminServer's "srvr" command (http://host:8080/commands/srvr), for ensembles that only expose it.</summary>
        public static ZkServerInfo ProbeAdmin(Uri commandsBase, TimeSpan timeout, CancellationToken ct)
        {
            string b = commandsBase.ToString().TrimEnd('/');
            if (!b.EndsWith("/commands", StringComparison.Ordinal)) b += "/commands";
            using (var http = HttpClients.Client(timeout))
            {
                JObject Get(string cmd)
                {
                    try
                    {
                        using (var r = http.GetAsync(b + "/" + cmd, ct).ConfigureAwait(false).GetAwaiter().GetResult())
                        {
                            string body = r.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                            if (!r.IsSuccessStatusCode) throw new ZkProbeException(ZkProbeFailure.Other, $"{b}/{cmd} answered {(int)r.StatusCode}");
                            return JObject.Parse(body);
                        }
                    }
                    catch (HttpRequestException ex)
                    {
                        var se = ex.InnerException as SocketException;
                        throw new ZkProbeException(se?.SocketErrorCode == SocketError.ConnectionRefused ? ZkProbeFailure.Refused : ZkProbeFailure.Other,
                            $"{b}: {ex.InnerException?.Message ?? ex.Message}");
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        throw new ZkProbeException(ZkProbeFailure.Other, $"no answer from {b} within {timeout.TotalSeconds:0.#} s");
                    }
                    catch (Newtonsoft.Json.JsonException)
                    {
                        throw new ZkProbeException(ZkProbeFailure.Other, $"{b}/{cmd} did not answer with JSON");
                    }
                }
                var stat = Get("srvr");
                var s = stat["server_stats"] as JObject;
                var info = new ZkServerInfo
                {
                    Version = ((string)stat["version"])?.Split(',')[0].Trim(),
                    Mode = (string)s?["server_state"],
                    Outstanding = (long?)s?["outstanding_requests"] ?? 0,
                    AvgLatency = (double?)s?["avg_latency"] ?? 0,
                    MaxLatency = (long?)s?["max_latency"] ?? 0,
                    Zxid = (long?)s?["last_processed_zxid"] ?? 0,
                    ZnodeCount = (long?)stat["node_count"] ?? 0,
                };
                // A server that does not serve answers the command with an error and no stats.
                info.Serving = s != null && !string.IsNullOrEmpty(info.Mode) && stat["error"]?.Type == JTokenType.Null;
                if (!info.Serving) info.NotServingText = (string)stat["error"] ?? NotServing;
                try
                {
                    var conf = Get("conf");
                    info.ServerId = (int?)conf["server_id"] ?? 0;
                }
                catch (ZkProbeException) { }
                return info;
            }
        }

        private static IEnumerable<(string, string)> Lines(string text, char sep)
        {
            foreach (var raw in text.Split('\n'))
            {
                int i = raw.IndexOf(sep);
                if (i <= 0) continue;
                yield return (raw.Substring(0, i).Trim(), raw.Substring(i + 1).Trim());
            }
        }

        private static long L(string s) => long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
        private static double D(string s) => double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
        private static long Hex(string s)
        {
            string h = s.Trim();
            if (h.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) h = h.Substring(2);
            return long.TryParse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : 0;
        }
    }

    public sealed class ZkProbeException : Exception
    {
        public ZkProbeException(ZkProbeFailure failure, string message) : base(message) { Failure = failure; }
        public ZkProbeFailure Failure { get; }
    }
}
