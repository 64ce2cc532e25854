using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ClusterDR.Bench
{
    /// <summary>
    /// The znodes a data set loads: paths in creation order (every parent before its children) and each
    /// znode's data, regenerated from its index so that a million znodes need no million buffers.
    /// </summary>
    public sealed class ZnodeSet
    {
        public string Name;
        public string Description;
        public List<string> Paths = new List<string>();
        public Func<int, byte[]> Data;
        /// <summary>Bytes of znode data over all paths (computed by <see cref="Measure"/>).</summary>
        public long DataBytes;

        public void Measure()
        {
            long n = 0;
            for (int i = 0; i < Paths.Count; i++) n += Data(i).Length;
            DataBytes = n;
        }

        /// <summary>
        /// Incompressible: /zkbench/dNNNN/kNNNNNNN, 1,000 leaves per parent, each <paramref name="payload"/>
        /// random bytes (parents hold none).
        /// </summary>
        public static ZnodeSet Random(int leaves, int payload, int seed = 42)
        {
            var set = new ZnodeSet { Name = "random" };
            set.Paths.Capacity = leaves + leaves / 1000 + 2;
            set.Paths.Add("/zkbench");
            var isLeaf = new List<bool> { false };
            for (int i = 0; i < leaves; i++)
            {
                if (i % 1000 == 0) { set.Paths.Add($"/zkbench/d{i / 1000:D4}"); isLeaf.Add(false); }
                set.Paths.Add($"/zkbench/d{i / 1000:D4}/k{i:D7}");
                isLeaf.Add(true);
            }
            var empty = new byte[0];
            set.Data = i =>
            {
                if (!isLeaf[i]) return empty;
                var b = new byte[payload];
                new System.Random(seed ^ (i * 7919)).NextBytes(b);
                return b;
            };
            set.Description = $"{leaves} leaves of {payload} random bytes under {set.Paths.Count - leaves} parents (/zkbench/dNNNN/kNNNNNNN)";
            return set;
        }

        /// <summary>
        /// Cluster-like: what the ZooKeeper of DC/OS masters holds, scaled to about <paramref name="target"/>
        /// znodes. Per 20 leaves: 1 Marathon app definition (/marathon/state/app/ID, JSON ~1.5-3 KB), 1 app
        /// version (/marathon/state/app-versions/ID/TIMESTAMP, the same JSON), 8 Marathon instances
        /// (/marathon/state/instance/ID.instance-UUID, JSON ~0.5-0.8 KB), 5 SDK framework TaskInfo blobs
        /// (/dcos-service-FW/Tasks/POD-N-TASK/TaskInfo, protobuf-like: strings with binary ids, ~1-2 KB),
        /// 4 TaskStatus blobs (~200-300 B) and 1 deployment/plan record (/dcos-service-FW/Properties/..., ~100 B
        /// of JSON); plus the fixed nodes of a cluster (Mesos leader info, Marathon leader and framework id, the
        /// SDK frameworks' FrameworkID and Configurations). Deterministic for a given index.
        /// </summary>
        public static ZnodeSet Cluster(int target, int seed = 7)
        {
            var set = new ZnodeSet { Name = "cluster" };
            var kinds = new List<int>(target + 64);   // per path: which generator writes its data
            var keys = new List<int>(target + 64);    // per path: the generator's own index (app number, task number)
            var seen = new HashSet<string>(StringComparer.Ordinal);
            void Add(string path, int kind, int key)
            {
                // Parents first, empty (ZooKeeper needs them; Marathon and the SDK create them empty too).
                int slash = path.LastIndexOf('/');
                if (slash > 0 && !seen.Contains(path.Substring(0, slash))) Add(path.Substring(0, slash), Empty, 0);
                if (!seen.Add(path)) return;
                set.Paths.Add(path); kinds.Add(kind); keys.Add(key);
            }
            string[] frameworks = { "cassandra", "kafka", "elastic", "hdfs", "jenkins" };
            Add("/mesos/json.info_0000000007", MesosInfo, 0);
            Add("/marathon/leader/member_0000000012", Small, 1);
            Add("/marathon/state/framework:id", Small, 2);
            Add("/marathon/state/group/root", Small, 3);
            foreach (var fw in frameworks)
            {
                Add($"/dcos-service-{fw}/FrameworkID", Small, 4);
                Add($"/dcos-service-{fw}/SchemaVersion", Small, 5);
                for (int c = 0; c < 3; c++) Add($"/dcos-service-{fw}/Configurations/{Uuid(seed, fw.Length * 100 + c)}", SdkConfig, c);
            }
            for (int k = 0; set.Paths.Count < target; k++)
            {
                int unit = k / 20, slot = k % 20;
                string app = AppId(unit);
                string fw = frameworks[unit % frameworks.Length];
                string task = $"node-{unit % 97}-{(new[] { "server", "broker", "data", "agent" })[unit % 4]}";
                if (slot == 0) Add($"/marathon/state/app/{app.Replace('/', '_')}", AppJson, unit);
                else if (slot == 1) Add($"/marathon/state/app-versions/{app.Replace('/', '_')}/{Timestamp(unit)}", AppJson, unit);
                else if (slot < 10) Add($"/marathon/state/instance/{app.Replace('/', '.')}.instance-{Uuid(seed, k)}", InstanceJson, k);
                else if (slot < 15) Add($"/dcos-service-{fw}/Tasks/{task}-{k}/TaskInfo", TaskInfo, k);
                else if (slot < 19) Add($"/dcos-service-{fw}/Tasks/{task}-{k - 5}/TaskStatus", TaskStatus, k);
                else Add($"/dcos-service-{fw}/Properties/deploy-plan-{unit}", Small, 6 + unit);
            }
            set.Data = i => Generate(kinds[i], keys[i], seed);
            set.Description = $"{set.Paths.Count} znodes shaped like a DC/OS master's ZooKeeper (Marathon apps, app versions and instances as JSON, " +
                $"SDK framework TaskInfo/TaskStatus blobs for {frameworks.Length} frameworks, Mesos/Marathon leader nodes; parents empty)";
            return set;
        }

        private const int Empty = 0, MesosInfo = 1, Small = 2, SdkConfig = 3, AppJson = 4, InstanceJson = 5, TaskInfo = 6, TaskStatus = 7;

        private static string AppId(int unit)
        {
            string[] teams = { "payments", "search", "web", "data", "ops", "ml", "auth", "billing" };
            return $"{teams[unit % teams.Length]}/svc-{unit:D5}";
        }

        private static string Timestamp(int unit) =>
            new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(unit * 37.0).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        private static string Uuid(int seed, int k)
        {
            var b = new byte[16];
            new System.Random(seed * 1000003 + k).NextBytes(b);
            return new Guid(b).ToString();
        }

        private static string Hex(System.Random r, int bytes)
        {
            var b = new byte[bytes];
            r.NextBytes(b);
            var sb = new StringBuilder(bytes * 2);
            foreach (var x in b) sb.Append(x.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        private static byte[] Generate(int kind, int key, int seed)
        {
            var r = new System.Random(seed * 31 + key * 17 + kind);
            switch (kind)
            {
                case Empty: return new byte[0];
                case MesosInfo:
                    return Encoding.UTF8.GetBytes("{\"address\":{\"hostname\":\"master-1.cluster.local\",\"ip\":\"10.0.4.11\",\"port\":5050},\"hostname\":\"master-1.cluster.local\"," +
                        $"\"id\":\"{Uuid(seed, 999)}\",\"ip\":185860106,\"pid\":\"master@10.0.4.11:5050\",\"port\":5050,\"version\":\"1.11.0\"}}");
                case Small:
                    return Encoding.UTF8.GetBytes($"{{\"id\":\"{Uuid(seed, key)}\",\"updated\":\"{Timestamp(key)}\",\"status\":\"COMPLETE\"}}");
                case SdkConfig: return SdkConfigJson(r, key);
                case AppJson: return App(r, key);
                case InstanceJson: return Instance(r, key);
                case TaskInfo: return TaskInfoBlob(r, key, 1000 + r.Next(1000));
                case TaskStatus: return TaskInfoBlob(r, key, 180 + r.Next(120));
                default: throw new ArgumentOutOfRangeException(nameof(kind));
            }
        }

        private static byte[] App(System.Random r, int unit)
        {
            string id = "/" + AppId(unit);
            var sb = new StringBuilder(3000);
            sb.Append("{\"id\":\"").Append(id).Append("\",\"cmd\":null,\"args\":[\"--port\",\"$PORT0\",\"--log-level\",\"info\"],\"user\":null,");
            sb.Append("\"env\":{");
            int envs = 4 + r.Next(12);
            for (int e = 0; e < envs; e++)
                sb.Append(e == 0 ? "" : ",").Append($"\"{(new[] { "DB_HOST", "DB_PORT", "CACHE_URL", "FEATURE_FLAGS", "JAVA_OPTS", "REGION", "LOG_FORMAT", "TRACE_ID" })[e % 8]}_{e}\":\"{Hex(r, 4 + r.Next(12))}\"");
            sb.Append("},\"instances\":").Append(1 + r.Next(8)).Append(",\"cpus\":").Append((0.1 + r.Next(20) / 10.0).ToString("0.0", CultureInfo.InvariantCulture));
            sb.Append(",\"mem\":").Append(128 * (1 + r.Next(16))).Append(",\"disk\":0,\"gpus\":0,\"executor\":\"\",\"constraints\":[[\"hostname\",\"UNIQUE\"]],");
            sb.Append("\"uris\":[],\"fetch\":[],\"storeUrls\":[],\"backoffSeconds\":1,\"backoffFactor\":1.15,\"maxLaunchDelaySeconds\":3600,");
            sb.Append("\"container\":{\"type\":\"DOCKER\",\"volumes\":[],\"docker\":{\"image\":\"registry.cluster.local:5000/").Append(AppId(unit)).Append(':').Append(Hex(r, 6));
            sb.Append("\",\"network\":\"BRIDGE\",\"portMappings\":[{\"containerPort\":8080,\"hostPort\":0,\"servicePort\":").Append(10000 + unit % 20000).Append(",\"protocol\":\"tcp\",\"labels\":{}}],");
            sb.Append("\"privileged\":false,\"parameters\":[],\"forcePullImage\":false}},");
            sb.Append("\"healthChecks\":[{\"gracePeriodSeconds\":300,\"intervalSeconds\":60,\"timeoutSeconds\":20,\"maxConsecutiveFailures\":3,\"portIndex\":0,\"path\":\"/health\",\"protocol\":\"MESOS_HTTP\",\"ipProtocol\":\"IPv4\",\"delaySeconds\":15}],");
            sb.Append("\"readinessChecks\":[],\"dependencies\":[],\"upgradeStrategy\":{\"minimumHealthCapacity\":1,\"maximumOverCapacity\":1},");
            sb.Append("\"labels\":{\"HAPROXY_GROUP\":\"external\",\"DCOS_SERVICE_NAME\":\"").Append(AppId(unit).Replace('/', '-')).Append("\",\"team\":\"").Append(AppId(unit).Split('/')[0]).Append('"');
            int labels = r.Next(10);
            for (int l = 0; l < labels; l++) sb.Append($",\"label{l}\":\"{Hex(r, 8)}\"");
            sb.Append("},\"acceptedResourceRoles\":[\"*\"],\"ipAddress\":null,\"version\":\"").Append(Timestamp(unit)).Append("\",\"residency\":null,\"secrets\":{},");
            sb.Append("\"taskKillGracePeriodSeconds\":null,\"unreachableStrategy\":{\"inactiveAfterSeconds\":300,\"expungeAfterSeconds\":600},\"killSelection\":\"YOUNGEST_FIRST\",");
            sb.Append("\"versionInfo\":{\"lastScalingAt\":\"").Append(Timestamp(unit + 3)).Append("\",\"lastConfigChangeAt\":\"").Append(Timestamp(unit)).Append("\"}}");
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        private static byte[] Instance(System.Random r, int k)
        {
            var sb = new StringBuilder(800);
            string task = Uuid(31, k);
            sb.Append("{\"instanceId\":{\"idString\":\"").Append(task).Append("\"},\"agentInfo\":{\"host\":\"10.0.").Append(r.Next(16)).Append('.').Append(r.Next(250));
            sb.Append("\",\"agentId\":\"").Append(Uuid(32, k % 300)).Append("-S").Append(k % 40).Append("\",\"region\":\"eu-west-1\",\"zone\":\"eu-west-1").Append("abc"[k % 3]).Append("\",\"attributes\":[]},");
            sb.Append("\"tasksMap\":{\"").Append(task).Append("._app.1\":{\"taskId\":\"").Append(task).Append("._app.1\",\"runSpecVersion\":\"").Append(Timestamp(k / 20)).Append("\",");
            sb.Append("\"status\":{\"stagedAt\":\"").Append(Timestamp(k)).Append("\",\"startedAt\":\"").Append(Timestamp(k + 1)).Append("\",\"mesosStatus\":\"").Append(Convert.ToBase64String(RandomBytes(r, 90 + r.Next(90))));
            sb.Append("\",\"condition\":\"Running\",\"networkInfo\":{\"hostName\":\"10.0.4.").Append(r.Next(250)).Append("\",\"hostPorts\":[").Append(20000 + r.Next(10000)).Append("],\"ipAddresses\":[]}}}},");
            sb.Append("\"runSpecVersion\":\"").Append(Timestamp(k / 20)).Append("\",\"state\":{\"condition\":\"Running\",\"since\":\"").Append(Timestamp(k + 1)).Append("\",\"goal\":\"Running\"},\"unreachableStrategy\":{\"inactiveAfterSeconds\":300,\"expungeAfterSeconds\":600}}");
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        /// <summary>A protobuf-shaped blob: field tags and lengths around text (names, resources, labels) and binary ids.</summary>
        private static byte[] TaskInfoBlob(System.Random r, int k, int size)
        {
            var b = new List<byte>(size + 64);
            void Field(int tag, byte[] v) { b.Add((byte)(tag << 3 | 2)); int n = v.Length; while (n >= 0x80) { b.Add((byte)(n | 0x80)); n >>= 7; } b.Add((byte)n); b.AddRange(v); }
            Field(1, Encoding.UTF8.GetBytes($"node-{k % 97}-server"));
            Field(2, Encoding.UTF8.GetBytes($"node-{k % 97}-server__{Uuid(33, k)}"));
            Field(3, Encoding.UTF8.GetBytes($"{Uuid(32, k % 300)}-S{k % 40}"));
            string[] words = { "cpus", "mem", "disk", "ports", "role", "slave_public", "principal", "dcos_space", "resource_id", "volume", "path", "MOUNT", "ROOT", "persistence", "label", "goal_state", "RUNNING", "target_configuration" };
            while (b.Count < size)
            {
                if (r.Next(4) == 0) Field(4 + r.Next(8), RandomBytes(r, 8 + r.Next(16)));
                else Field(4 + r.Next(8), Encoding.UTF8.GetBytes(words[r.Next(words.Length)] + "=" + (r.Next(3) == 0 ? Hex(r, 8) : r.Next(65536).ToString(CultureInfo.InvariantCulture))));
            }
            return b.ToArray();
        }

        private static byte[] SdkConfigJson(System.Random r, int c)
        {
            var sb = new StringBuilder(8000);
            sb.Append("{\"name\":\"svc\",\"role\":\"svc-role\",\"principal\":\"svc-principal\",\"pod-specs\":[");
            for (int p = 0; p < 3; p++)
            {
                sb.Append(p == 0 ? "" : ",").Append("{\"type\":\"node\",\"count\":").Append(3 + c).Append(",\"task-specs\":[{\"name\":\"server\",\"goal\":\"RUNNING\",\"command-spec\":{\"value\":\"./bootstrap && exec ./bin/server\",\"environment\":{");
                for (int e = 0; e < 30; e++) sb.Append(e == 0 ? "" : ",").Append($"\"SETTING_{e}\":\"{Hex(r, 6)}\"");
                sb.Append("}},\"resource-set\":{\"cpus\":1.0,\"mem\":4096,\"volumes\":[{\"type\":\"ROOT\",\"container-path\":\"data\",\"size\":10240}]}}]}");
            }
            sb.Append("],\"replacement-failure-policy\":null}");
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        private static byte[] RandomBytes(System.Random r, int n) { var b = new byte[n]; r.NextBytes(b); return b; }
    }
}
