using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ClusterDR.Bench.Common
{
    public readonly struct KeyValue
    {
        public readonly string Key;
        public readonly byte[] Value;
        public KeyValue(string key, byte[] value) { Key = key; Value = value; }
    }

    /// <summary>A deterministic source of keys and values: item n is the same on every run and every thread.</summary>
    public interface IDataSet
    {
        string Name { get; }
        string Description { get; }
        KeyValue Item(long n);
    }

    public static class DataSets
    {
        public static IDataSet ByName(string name, int seed = 1) => name switch
        {
            "cluster-like" => new K8sLikeData(seed),
            "incompressible" => new RandomData(seed),
            _ => throw new ArgumentException($"Unknown data set '{name}' (cluster-like, incompressible)."),
        };
        public static readonly string[] Names = { "cluster-like", "incompressible" };
    }

    /// <summary>Random bytes under /bench/random/N: nothing for a compressor to find (values 8–56 KB).</summary>
    public sealed class RandomData : IDataSet
    {
        private readonly int _seed;
        public RandomData(int seed = 1) { _seed = seed; }
        public string Name => "incompressible";
        public string Description => "random bytes, values 8–56 KB under /bench/random/N";
        public KeyValue Item(long n)
        {
            var rng = new Random(unchecked(_seed * 1000003 + (int)n * 7919 + (int)(n >> 32)));
            var v = new byte[8192 + rng.Next(48 * 1024)];
            rng.NextBytes(v);
            return new KeyValue("/bench/random/" + n.ToString("D10", CultureInfo.InvariantCulture), v);
        }
    }

    /// <summary>
    /// Objects shaped like a Kubernetes cluster's, as the API server stores them in etcd: keys
    /// /registry/RESOURCE/NAMESPACE/NAME (cluster-scoped: /registry/RESOURCE/NAME; custom resources
    /// /registry/GROUP/RESOURCE/NAMESPACE/NAME); built-in kinds protobuf-encoded in the "k8s\0" + Unknown
    /// envelope, custom resources as JSON. What repeats in real data repeats here (field names, labels,
    /// managedFields, images, the last-applied annotation); what does not is random (uids, hashes,
    /// IPs, container ids, secrets). Item n is object n of a cluster of 64 namespaces × 24 apps.
    /// </summary>
    public sealed class K8sLikeData : IDataSet
    {
        private readonly int _seed;
        public K8sLikeData(int seed = 1) { _seed = seed; }
        public string Name => "cluster-like";
        public string Description => "Kubernetes-like objects under /registry/...: ~75 % protobuf (k8s\\0 envelope), ~25 % JSON";

        private static readonly string[] Apps = { "frontend", "checkout", "cart", "payments", "catalog", "search", "recommendations", "auth", "gateway", "orders", "shipping", "inventory", "notifications", "billing", "reports", "metrics-exporter", "redis", "postgres", "kafka-connect", "worker", "scheduler", "api", "web", "admin" };
        private static readonly string[] Registries = { "registry.k8s.io", "docker.io/library", "quay.io/prometheus", "ghcr.io/acme", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme", "mcr.microsoft.com/oss" };
        private static readonly string[] Teams = { "platform", "payments", "growth", "data", "core", "sre" };
        private static readonly string[] Reasons = { "Scheduled", "Pulling", "Pulled", "Created", "Started", "Killing", "BackOff", "Unhealthy", "SuccessfulCreate", "ScalingReplicaSet" };
        private static readonly (string Resource, int Weight)[] Mix =
        {
            ("pods", 30), ("replicasets", 11), ("events", 15), ("configmaps", 8), ("secrets", 8), ("services", 5), ("endpointslices", 5),
            ("deployments", 5), ("leases", 2), ("serviceaccounts", 3), ("crd", 8),
        };
        private static readonly int MixTotal = Mix.Sum(m => m.Weight);
        private static readonly DateTime Epoch = new DateTime(2026, 3, 1, 8, 0, 0, DateTimeKind.Utc);

        public KeyValue Item(long n)
        {
            var r = new Random(unchecked(_seed * 1000003 + (int)n * 7919 + (int)(n >> 32)));
            var g = new Gen(r, n);
            int pick = r.Next(MixTotal);
            string res = Mix.First(m => (pick -= m.Weight) < 0).Resource;
            return res switch
            {
                "pods" => g.Pod(),
                "replicasets" => g.ReplicaSet(),
                "events" => g.Event(),
                "configmaps" => g.ConfigMap(),
                "secrets" => g.Secret(),
                "services" => g.Service(),
                "endpointslices" => g.EndpointSlice(),
                "deployments" => g.Deployment(),
                "leases" => g.Lease(),
                "serviceaccounts" => g.ServiceAccount(),
                _ => g.CustomResource(),
            };
        }

        /// <summary>One object's worth of choices.</summary>
        private sealed class Gen
        {
            private readonly Random _r;
            private readonly long _n;
            private readonly string _ns, _app, _team, _hash;
            private readonly Random _stable;
            private static readonly Random CaRng = new Random(42);
            private static readonly string RootCa = "-----BEGIN CERTIFICATE-----\n" + PemOf(RandomOf(CaRng, 1100)) + "-----END CERTIFICATE-----\n";

            private static int StableHash(string s) { unchecked { int h = 17; foreach (char c in s) h = h * 31 + c; return h; } }
            private static string StableHex(int len, Random r) { var c = new char[len]; for (int i = 0; i < len; i++) c[i] = "0123456789abcdef"[r.Next(16)]; return new string(c); }
            private static byte[] RandomOf(Random r, int n) { var b = new byte[n]; r.NextBytes(b); return b; }
            private string StableUid(string what) { var r = new Random(StableHash(_ns + "/" + _app + "/" + what)); return $"{StableHex(8, r)}-{StableHex(4, r)}-{StableHex(4, r)}-{StableHex(4, r)}-{StableHex(12, r)}"; }
            private string Digest() => StableHex(64, new Random(StableHash(_app)));
            private readonly int _appIx;

            public Gen(Random r, long n)
            {
                _r = r; _n = n;
                int nsIx = r.Next(64);
                _appIx = r.Next(Apps.Length);
                _ns = nsIx < 4 ? new[] { "kube-system", "monitoring", "ingress-nginx", "cert-manager" }[nsIx] : "team-" + Teams[nsIx % Teams.Length] + "-" + (nsIx / Teams.Length).ToString("D2", CultureInfo.InvariantCulture);
                _app = Apps[_appIx] + "-" + r.Next(1000).ToString(CultureInfo.InvariantCulture); // names vary, so keys rarely repeat
                _team = Teams[(nsIx + _appIx) % Teams.Length];
                // What is shared in a real cluster is derived from (namespace, app), not drawn per object:
                // the pod-template hash, owners' uids, image digests, the root CA every namespace gets.
                _stable = new Random(StableHash(_ns + "/" + _app));
                _hash = StableHex(9, _stable) + "d";
            }

            private const string Alnum = "bcdfghjklmnpqrstvwxz2456789";
            private string Hex(int len) { var c = new char[len]; for (int i = 0; i < len; i++) c[i] = "0123456789abcdef"[_r.Next(16)]; return new string(c); }
            private string Suffix(int len) { var c = new char[len]; for (int i = 0; i < len; i++) c[i] = Alnum[_r.Next(Alnum.Length)]; return new string(c); }
            private string Uid() => $"{Hex(8)}-{Hex(4)}-{Hex(4)}-{Hex(4)}-{Hex(12)}";
            private string Time(int maxDays = 200) => Epoch.AddSeconds(_r.Next(maxDays * 86400)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            private string Ip() => $"10.{_r.Next(0, 4)}.{_r.Next(256)}.{_r.Next(1, 255)}";
            private string Rv() => (1_000_000 + _n * 3 + _r.Next(3)).ToString(CultureInfo.InvariantCulture);
            private string Image() => $"{Registries[_appIx % Registries.Length]}/{_app}:v{1 + _appIx % 4}.{_r.Next(3)}.{_appIx % 7}";
            private static List<object> L(params object[] xs) => xs.ToList();

            private Obj Labels(bool withHash) => new Obj().Add("app", _app).Add("app.kubernetes.io/name", _app).Add("app.kubernetes.io/instance", _app + "-prod")
                .Add("app.kubernetes.io/part-of", "shop").Add("app.kubernetes.io/managed-by", "Helm").Add("team", _team)
                .Add(withHash ? "pod-template-hash" : "helm.sh/chart", withHash ? _hash : _app + "-1.4.2");

            private Obj Meta(string name, string apiVersion, string kind, bool namespaced = true, Obj labels = null, List<object> owners = null, Obj annotations = null, Obj fields = null, string manager = "kube-controller-manager")
            {
                var m = new Obj().Add("name", name).Add("generateName", owners != null ? name.Substring(0, name.LastIndexOf('-') + 1) : null)
                    .Add("namespace", namespaced ? _ns : null).Add("selfLink", null).Add("uid", Uid()).Add("resourceVersion", Rv())
                    .Add("generation", (long)(1 + _r.Next(12))).Add("creationTimestamp", new Obj().Add("seconds", (long)(1772352000 + _r.Next(17280000))).Add("nanos", 0L))
                    .Add("deletionTimestamp", null).Add("deletionGracePeriodSeconds", null).Add("labels", labels ?? Labels(false))
                    .Add("annotations", annotations).Add("ownerReferences", owners).Add("finalizers", null).Add("clusterName", null);
                var mf = L(new Obj().Add("manager", manager).Add("operation", "Update").Add("apiVersion", apiVersion)
                    .Add("time", new Obj().Add("seconds", (long)(1772352000 + _r.Next(17280000))).Add("nanos", 0L)).Add("fieldsType", "FieldsV1")
                    .Add("fieldsV1", new RawJson(fields ?? new Obj().Add("f:metadata", new Obj().Add("f:labels", new Obj().Add(".", new Obj()).Add("f:app", new Obj()).Add("f:team", new Obj()))))).Add("subresource", ""));
                if (kind == "Pod" || kind == "Deployment" || kind == "ReplicaSet")
                    mf.Add(new Obj().Add("manager", kind == "Pod" ? "kubelet" : "kube-controller-manager").Add("operation", "Update").Add("apiVersion", apiVersion)
                        .Add("time", new Obj().Add("seconds", (long)(1772352000 + _r.Next(17280000))).Add("nanos", 0L)).Add("fieldsType", "FieldsV1")
                        .Add("fieldsV1", new RawJson(new Obj().Add("f:status", new Obj().Add("f:conditions", new Obj().Add("k:{\"type\":\"Ready\"}", new Obj().Add(".", new Obj()).Add("f:lastProbeTime", new Obj()).Add("f:lastTransitionTime", new Obj()).Add("f:status", new Obj()).Add("f:type", new Obj())))
                            .Add("f:observedGeneration", new Obj()).Add("f:replicas", new Obj()).Add("f:readyReplicas", new Obj())))).Add("subresource", "status"));
                m.Add("managedFields", mf);
                return m;
            }

            /// <summary>The FieldsV1 set of <paramref name="o"/>: f:FIELD per set field, list items as k:{"name":...} (as server-side apply records them).</summary>
            private static Obj FieldsOf(Obj o)
            {
                var f = new Obj();
                foreach (var kv in o)
                {
                    if (kv.Value == null) continue;
                    if (kv.Value is Obj child) { var c = FieldsOf(child); c.Insert(0, new KeyValuePair<string, object>(".", new Obj())); f.Add("f:" + kv.Key, c); }
                    else if (kv.Value is List<object> list)
                    {
                        var items = new Obj();
                        foreach (var x in list)
                            if (x is Obj item && item.FirstOrDefault(e => e.Key == "name" || e.Key == "type" || e.Key == "containerPort").Value is object key)
                            {
                                string k = item.First(e => e.Value == key).Key;
                                var c = FieldsOf(item); c.Insert(0, new KeyValuePair<string, object>(".", new Obj()));
                                items.Add("k:{\"" + k + "\":" + (key is string ks ? "\"" + ks + "\"" : key.ToString()) + "}", c);
                            }
                        f.Add("f:" + kv.Key, items);
                    }
                    else f.Add("f:" + kv.Key, new Obj());
                }
                return f;
            }

            private List<object> Owner(string kind, string name) => L(new Obj().Add("apiVersion", "apps/v1").Add("kind", kind).Add("name", name).Add("uid", StableUid(kind)).Add("controller", true).Add("blockOwnerDeletion", true));

            private Obj Container(int i)
            {
                var env = new List<object>();
                foreach (var e in new[] { "LOG_LEVEL", "PORT", "OTEL_EXPORTER_OTLP_ENDPOINT", "DATABASE_HOST", "CACHE_TTL", "FEATURE_FLAGS", "OTEL_SERVICE_NAME", "JAVA_TOOL_OPTIONS", "SPRING_PROFILES_ACTIVE", "KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "HTTP_TIMEOUT" }.Take(4 + _r.Next(9)))
                    env.Add(new Obj().Add("name", e).Add("value", e == "PORT" ? "8080" : e == "LOG_LEVEL" ? "info" : e == "DATABASE_HOST" ? "postgres." + _ns + ".svc.cluster.local" : e == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "http://otel-collector.monitoring:4317" : e == "CACHE_TTL" ? "300s" : e == "FEATURE_FLAGS" ? "checkout-v2,new-search" : e == "OTEL_SERVICE_NAME" ? _app : e == "JAVA_TOOL_OPTIONS" ? "-XX:MaxRAMPercentage=75.0 -XX:+UseG1GC -Dfile.encoding=UTF-8"
                        : e == "SPRING_PROFILES_ACTIVE" ? "prod,kubernetes" : e == "KAFKA_BOOTSTRAP_SERVERS" ? "kafka-0.kafka.data:9092,kafka-1.kafka.data:9092,kafka-2.kafka.data:9092" : e == "REDIS_URL" ? "redis://redis-master." + _ns + ":6379/0" : "15s"));
                return new Obj().Add("name", i == 0 ? _app : "istio-proxy").Add("image", i == 0 ? Image() : "docker.io/istio/proxyv2:1.22.3").Add("command", null).Add("args", i == 0 ? null : L("proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"))
                    .Add("workingDir", null).Add("ports", L(new Obj().Add("name", i == 0 ? "http" : "http-envoy-prom").Add("hostPort", null).Add("containerPort", (long)(i == 0 ? 8080 : 15090)).Add("protocol", "TCP")))
                    .Add("env", env).Add("resources", new Obj().Add("limits", new Obj().Add("cpu", "500m").Add("memory", (128 << _r.Next(4)) + "Mi")).Add("requests", new Obj().Add("cpu", (50 * (1 + _r.Next(4))) + "m").Add("memory", "128Mi")))
                    .Add("volumeMounts", L(new Obj().Add("name", "kube-api-access-" + Suffix(5)).Add("readOnly", true).Add("mountPath", "/var/run/secrets/kubernetes.io/serviceaccount")))
                    .Add("livenessProbe", new Obj().Add("httpGet", new Obj().Add("path", "/healthz").Add("port", "http").Add("scheme", "HTTP")).Add("initialDelaySeconds", 10L).Add("timeoutSeconds", 1L).Add("periodSeconds", 10L).Add("successThreshold", 1L).Add("failureThreshold", 3L))
                    .Add("readinessProbe", new Obj().Add("httpGet", new Obj().Add("path", "/ready").Add("port", "http").Add("scheme", "HTTP")).Add("timeoutSeconds", 1L).Add("periodSeconds", 5L).Add("successThreshold", 1L).Add("failureThreshold", 3L))
                    .Add("terminationMessagePath", "/dev/termination-log").Add("terminationMessagePolicy", "File").Add("imagePullPolicy", "IfNotPresent")
                    .Add("securityContext", new Obj().Add("runAsNonRoot", true).Add("readOnlyRootFilesystem", true).Add("allowPrivilegeEscalation", false));
            }

            private Obj PodSpec(bool scheduled) => new Obj().Add("volumes", L(new Obj().Add("name", "kube-api-access-" + Suffix(5)).Add("projected", new Obj().Add("sources", L(
                        new Obj().Add("serviceAccountToken", new Obj().Add("expirationSeconds", 3607L).Add("path", "token")),
                        new Obj().Add("configMap", new Obj().Add("name", "kube-root-ca.crt").Add("items", L(new Obj().Add("key", "ca.crt").Add("path", "ca.crt")))))).Add("defaultMode", 420L))))
                .Add("containers", _r.Next(3) == 0 ? L(Container(0), Container(1)) : L(Container(0))).Add("restartPolicy", "Always").Add("terminationGracePeriodSeconds", 30L)
                .Add("dnsPolicy", "ClusterFirst").Add("nodeSelector", new Obj().Add("kubernetes.io/os", "linux")).Add("serviceAccountName", _app).Add("nodeName", scheduled ? "ip-10-0-" + _r.Next(32) + "-" + _r.Next(256) + ".eu-west-1.compute.internal" : null)
                .Add("securityContext", new Obj().Add("fsGroup", 2000L)).Add("schedulerName", "default-scheduler")
                .Add("tolerations", L(new Obj().Add("key", "node.kubernetes.io/not-ready").Add("operator", "Exists").Add("effect", "NoExecute").Add("tolerationSeconds", 300L),
                                      new Obj().Add("key", "node.kubernetes.io/unreachable").Add("operator", "Exists").Add("effect", "NoExecute").Add("tolerationSeconds", 300L)))
                .Add("priority", 0L).Add("enableServiceLinks", true).Add("preemptionPolicy", "PreemptLowerPriority");

            private Obj Template() => new Obj().Add("metadata", new Obj().Add("labels", Labels(true)).Add("annotations", new Obj().Add("prometheus.io/scrape", "true").Add("prometheus.io/port", "8080"))).Add("spec", PodSpec(false));

            private KeyValue Proto(string resource, string name, string apiVersion, string kind, Obj body, bool namespaced = true) =>
                new KeyValue("/registry/" + resource + "/" + (namespaced ? _ns + "/" : "") + name, K8sProto.Envelope(apiVersion, kind, body));

            private static readonly Obj PodFields = new Obj().Add("f:metadata", new Obj().Add("f:generateName", new Obj()).Add("f:labels", new Obj().Add(".", new Obj()).Add("f:app", new Obj()).Add("f:pod-template-hash", new Obj()))
                .Add("f:ownerReferences", new Obj().Add(".", new Obj()))).Add("f:spec", new Obj().Add("f:containers", new Obj()).Add("f:dnsPolicy", new Obj()).Add("f:enableServiceLinks", new Obj()).Add("f:restartPolicy", new Obj()).Add("f:schedulerName", new Obj()).Add("f:securityContext", new Obj()).Add("f:terminationGracePeriodSeconds", new Obj()));

            public KeyValue Pod()
            {
                string rs = _app + "-" + _hash, name = rs + "-" + Suffix(5);
                var spec = PodSpec(true);
                var statuses = new List<object>();
                foreach (Obj c in (List<object>)spec.First(kv => kv.Key == "containers").Value)
                    statuses.Add(new Obj().Add("name", (string)c.First(kv => kv.Key == "name").Value).Add("state", new Obj().Add("running", new Obj().Add("startedAt", Time()))).Add("lastState", new Obj())
                        .Add("ready", true).Add("restartCount", (long)_r.Next(3)).Add("image", (string)c.First(kv => kv.Key == "image").Value).Add("imageID", "docker-pullable://" + Registries[_appIx % Registries.Length] + "/" + _app + "@sha256:" + Digest())
                        .Add("containerID", "containerd://" + Hex(64)).Add("started", true));
                var conds = new List<object>();
                foreach (var t in new[] { "Initialized", "Ready", "ContainersReady", "PodScheduled" })
                    conds.Add(new Obj().Add("type", t).Add("status", "True").Add("lastProbeTime", null).Add("lastTransitionTime", Time()));
                string ip = Ip();
                var status = new Obj().Add("phase", "Running").Add("conditions", conds).Add("message", null).Add("reason", null).Add("hostIP", "10.0." + _r.Next(32) + "." + _r.Next(256)).Add("podIP", ip)
                    .Add("startTime", Time()).Add("containerStatuses", statuses).Add("qosClass", "Burstable").Add("podIPs", L(new Obj().Add("ip", ip)));
                var fields = new Obj().Add("f:metadata", PodFields.First(kv => kv.Key == "f:metadata").Value).Add("f:spec", FieldsOf(spec));
                return Proto("pods", name, "v1", "Pod", new Obj().Add("metadata", Meta(name, "v1", "Pod", labels: Labels(true), owners: Owner("ReplicaSet", rs), fields: fields)).Add("spec", spec).Add("status", status));
            }

            private Obj LastApplied(string kind, Obj spec) => new Obj().Add("kubectl.kubernetes.io/last-applied-configuration",
                Encoding.UTF8.GetString(Json.Encode(new Obj().Add("apiVersion", "apps/v1").Add("kind", kind).Add("metadata", new Obj().Add("labels", Labels(false)).Add("name", _app).Add("namespace", _ns)).Add("spec", spec))) + "\n")
                .Add("meta.helm.sh/release-name", _app + "-prod").Add("meta.helm.sh/release-namespace", _ns);

            public KeyValue Deployment()
            {
                var spec = new Obj().Add("replicas", (long)(1 + _r.Next(6))).Add("selector", new Obj().Add("matchLabels", new Obj().Add("app", _app))).Add("template", Template())
                    .Add("strategy", new Obj().Add("type", "RollingUpdate").Add("rollingUpdate", new Obj().Add("maxUnavailable", "25%").Add("maxSurge", "25%"))).Add("revisionHistoryLimit", 10L).Add("progressDeadlineSeconds", 600L);
                var ann = LastApplied("Deployment", spec);
                ann.Add("deployment.kubernetes.io/revision", (1 + _r.Next(40)).ToString(CultureInfo.InvariantCulture));
                var status = new Obj().Add("observedGeneration", (long)_r.Next(40)).Add("replicas", 3L).Add("updatedReplicas", 3L).Add("readyReplicas", 3L).Add("availableReplicas", 3L)
                    .Add("conditions", L(new Obj().Add("type", "Available").Add("status", "True").Add("lastUpdateTime", Time()).Add("lastTransitionTime", Time()).Add("reason", "MinimumReplicasAvailable").Add("message", "Deployment has minimum availability."),
                                         new Obj().Add("type", "Progressing").Add("status", "True").Add("lastUpdateTime", Time()).Add("lastTransitionTime", Time()).Add("reason", "NewReplicaSetAvailable").Add("message", $"ReplicaSet \"{_app}-{_hash}\" has successfully progressed.")));
                return Proto("deployments", _app, "apps/v1", "Deployment", new Obj().Add("metadata", Meta(_app, "apps/v1", "Deployment", annotations: ann, fields: new Obj().Add("f:spec", FieldsOf(spec)), manager: "kubectl-client-side-apply")).Add("spec", spec).Add("status", status));
            }

            public KeyValue ReplicaSet()
            {
                string name = _app + "-" + _hash;
                var spec = new Obj().Add("replicas", (long)_r.Next(6)).Add("minReadySeconds", 0L).Add("selector", new Obj().Add("matchLabels", new Obj().Add("app", _app).Add("pod-template-hash", _hash))).Add("template", Template());
                var ann = new Obj().Add("deployment.kubernetes.io/desired-replicas", "3").Add("deployment.kubernetes.io/max-replicas", "4").Add("deployment.kubernetes.io/revision", (1 + _r.Next(40)).ToString(CultureInfo.InvariantCulture));
                return Proto("replicasets", name, "apps/v1", "ReplicaSet", new Obj().Add("metadata", Meta(name, "apps/v1", "ReplicaSet", labels: Labels(true), owners: Owner("Deployment", _app), annotations: ann, fields: new Obj().Add("f:spec", FieldsOf(spec))))
                    .Add("spec", spec).Add("status", new Obj().Add("replicas", 3L).Add("fullyLabeledReplicas", 3L).Add("readyReplicas", 3L).Add("availableReplicas", 3L).Add("observedGeneration", 2L)));
            }

            public KeyValue Event()
            {
                string pod = _app + "-" + _hash + "-" + Suffix(5), name = pod + "." + Hex(16);
                string reason = Reasons[_r.Next(Reasons.Length)];
                string msg = reason switch
                {
                    "Scheduled" => $"Successfully assigned {_ns}/{pod} to ip-10-0-{_r.Next(32)}-{_r.Next(256)}.eu-west-1.compute.internal",
                    "Pulling" => $"Pulling image \"{Image()}\"",
                    "Pulled" => $"Successfully pulled image \"{Image()}\" in {_r.Next(200, 9000)}ms ({_r.Next(200, 9000)}ms including waiting). Image size: {_r.Next(10_000_000, 400_000_000)} bytes.",
                    "Unhealthy" => $"Readiness probe failed: Get \"http://{Ip()}:8080/ready\": dial tcp {Ip()}:8080: connect: connection refused",
                    "BackOff" => "Back-off restarting failed container " + _app + " in pod " + pod + "_" + _ns + "(" + Uid() + ")",
                    _ => reason + " container " + _app,
                };
                var body = new Obj().Add("metadata", Meta(name, "v1", "Event", labels: new Obj(), manager: "kubelet"))
                    .Add("involvedObject", new Obj().Add("kind", "Pod").Add("namespace", _ns).Add("name", pod).Add("uid", Uid()).Add("apiVersion", "v1").Add("resourceVersion", Rv()).Add("fieldPath", "spec.containers{" + _app + "}"))
                    .Add("reason", reason).Add("message", msg).Add("source", new Obj().Add("component", "kubelet").Add("host", "ip-10-0-" + _r.Next(32) + "-" + _r.Next(256) + ".eu-west-1.compute.internal"))
                    .Add("firstTimestamp", Time()).Add("lastTimestamp", Time()).Add("count", (long)(1 + _r.Next(20))).Add("type", reason == "BackOff" || reason == "Unhealthy" ? "Warning" : "Normal")
                    .Add("eventTime", null).Add("reportingComponent", "kubelet").Add("reportingInstance", "ip-10-0-" + _r.Next(32) + "-" + _r.Next(256));
                return Proto("events", name, "v1", "Event", body);
            }

            public KeyValue ConfigMap()
            {
                var data = new Obj();
                var sb = new StringBuilder();
                switch (_r.Next(3))
                {
                    case 0:
                        sb.Append("server:\n  port: 8080\n  shutdownTimeout: 30s\nlogging:\n  level: info\n  format: json\n");
                        foreach (var a in Apps.Take(4 + _r.Next(12))) sb.Append($"upstreams:\n  - name: {a}\n    url: http://{a}.{_ns}.svc.cluster.local:8080\n    timeout: {1 + _r.Next(30)}s\n    retries: {_r.Next(5)}\n");
                        data.Add("application.yaml", sb.ToString());
                        break;
                    case 1:
                        sb.Append("worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n  sendfile on;\n  keepalive_timeout 65;\n");
                        foreach (var a in Apps.Take(3 + _r.Next(10))) sb.Append($"  location /{a}/ {{\n    proxy_pass http://{a}:8080/;\n    proxy_set_header Host $host;\n    proxy_set_header X-Request-Id $request_id;\n    proxy_read_timeout {30 + _r.Next(60)}s;\n  }}\n");
                        data.Add("nginx.conf", sb.Append("}\n").ToString());
                        break;
                    default:
                        data.Add("ca.crt", RootCa);
                        break;
                }
                string name = _app + "-config-" + (_r.Next(4) == 0 ? Suffix(10) : "v" + _r.Next(9));
                return Proto("configmaps", name, "v1", "ConfigMap", new Obj().Add("metadata", Meta(name, "v1", "ConfigMap", manager: "helm")).Add("data", data).Add("binaryData", null).Add("immutable", null));
            }

            private static string PemOf(byte[] b)
            {
                string s = Convert.ToBase64String(b);
                var sb = new StringBuilder();
                for (int i = 0; i < s.Length; i += 64) sb.Append(s, i, Math.Min(64, s.Length - i)).Append('\n');
                return sb.ToString();
            }

            private byte[] RandomBytes(int n) { var b = new byte[n]; _r.NextBytes(b); return b; }

            public KeyValue Secret()
            {
                var data = new Obj();
                string type;
                switch (_r.Next(3))
                {
                    case 0: type = "Opaque"; data.Add("username", new Bytes(Encoding.ASCII.GetBytes(_app))).Add("password", new Bytes(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomBytes(18))))); break;
                    case 1: type = "kubernetes.io/tls"; data.Add("tls.crt", new Bytes(RandomBytes(300 + _r.Next(400)))).Add("tls.key", new Bytes(RandomBytes(121))); break;
                    default: type = "helm.sh/release.v1"; data.Add("release", new Bytes(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomBytes(200 + _r.Next(800)))))); break;
                }
                string name = type == "helm.sh/release.v1" ? "sh.helm.release.v1." + _app + ".v" + (1 + _r.Next(30)) : _app + (type == "Opaque" ? "-credentials" : "-tls");
                return Proto("secrets", name, "v1", "Secret", new Obj().Add("metadata", Meta(name, "v1", "Secret", manager: "helm")).Add("data", data).Add("type", type).Add("stringData", null).Add("immutable", null));
            }

            public KeyValue Service() => Proto("services", _app, "v1", "Service", new Obj().Add("metadata", Meta(_app, "v1", "Service", annotations: new Obj().Add("meta.helm.sh/release-name", _app + "-prod").Add("meta.helm.sh/release-namespace", _ns), manager: "helm"))
                .Add("spec", new Obj().Add("ports", L(new Obj().Add("name", "http").Add("protocol", "TCP").Add("port", 80L).Add("targetPort", new Obj().Add("type", 1L).Add("strVal", "http")))).Add("selector", new Obj().Add("app", _app))
                    .Add("clusterIP", "172.20." + _r.Next(256) + "." + _r.Next(256)).Add("type", "ClusterIP").Add("sessionAffinity", "None").Add("ipFamilies", L("IPv4")).Add("ipFamilyPolicy", "SingleStack").Add("internalTrafficPolicy", "Cluster"))
                .Add("status", new Obj().Add("loadBalancer", new Obj())));

            public KeyValue EndpointSlice()
            {
                string name = _app + "-" + Suffix(5);
                var eps = new List<object>();
                for (int i = 0, k = 1 + _r.Next(6); i < k; i++)
                    eps.Add(new Obj().Add("addresses", L(Ip())).Add("conditions", new Obj().Add("ready", true).Add("serving", true).Add("terminating", false))
                        .Add("targetRef", new Obj().Add("kind", "Pod").Add("namespace", _ns).Add("name", _app + "-" + _hash + "-" + Suffix(5)).Add("uid", Uid())).Add("nodeName", "ip-10-0-" + _r.Next(32) + "-" + _r.Next(256) + ".eu-west-1.compute.internal").Add("zone", "eu-west-1" + "abc"[_r.Next(3)]));
                var labels = Labels(false);
                labels.Add("endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io").Add("kubernetes.io/service-name", _app);
                return Proto("endpointslices", name, "discovery.k8s.io/v1", "EndpointSlice", new Obj().Add("metadata", Meta(name, "discovery.k8s.io/v1", "EndpointSlice", labels: labels))
                    .Add("addressType", "IPv4").Add("endpoints", eps).Add("ports", L(new Obj().Add("name", "http").Add("protocol", "TCP").Add("port", 8080L))));
            }

            public KeyValue Lease()
            {
                string name = _r.Next(2) == 0 ? _app + "-leader" : "ip-10-0-" + _r.Next(32) + "-" + _r.Next(256) + ".eu-west-1.compute.internal";
                return Proto("leases", name, "coordination.k8s.io/v1", "Lease", new Obj().Add("metadata", Meta(name, "coordination.k8s.io/v1", "Lease", labels: new Obj(), manager: "kubelet"))
                    .Add("spec", new Obj().Add("holderIdentity", name + "_" + Uid()).Add("leaseDurationSeconds", 40L).Add("acquireTime", new Obj().Add("seconds", 1772352000L + _r.Next(17280000)))
                        .Add("renewTime", new Obj().Add("seconds", 1772352000L + _r.Next(17280000)).Add("nanos", (long)_r.Next(1_000_000_000))).Add("leaseTransitions", (long)_r.Next(20))));
            }

            public KeyValue ServiceAccount() => Proto("serviceaccounts", _app, "v1", "ServiceAccount", new Obj().Add("metadata", Meta(_app, "v1", "ServiceAccount", annotations: new Obj().Add("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/" + _ns + "-" + _app), manager: "helm"))
                .Add("secrets", null).Add("imagePullSecrets", L(new Obj().Add("name", "registry-credentials"))).Add("automountServiceAccountToken", true));

            /// <summary>Custom resources are stored as JSON (with apiVersion/kind inline), e.g. cert-manager, Prometheus operator, Argo CD.</summary>
            public KeyValue CustomResource()
            {
                string name;
                Obj obj;
                string group, resource;
                switch (_r.Next(3))
                {
                    case 0:
                        group = "cert-manager.io"; resource = "certificates"; name = _app + "-tls";
                        obj = new Obj().Add("apiVersion", "cert-manager.io/v1").Add("kind", "Certificate").Add("metadata", JsonMeta(name))
                            .Add("spec", new Obj().Add("secretName", name).Add("dnsNames", L(_app + ".example.com", _app + "." + _ns + ".svc")).Add("issuerRef", new Obj().Add("name", "letsencrypt-prod").Add("kind", "ClusterIssuer")).Add("duration", "2160h0m0s").Add("renewBefore", "720h0m0s"))
                            .Add("status", new Obj().Add("conditions", L(new Obj().Add("type", "Ready").Add("status", "True").Add("lastTransitionTime", Time()).Add("reason", "Ready").Add("message", "Certificate is up to date and has not expired").Add("observedGeneration", 1L)))
                                .Add("notAfter", Time(400)).Add("notBefore", Time()).Add("renewalTime", Time(300)).Add("revision", (long)(1 + _r.Next(9))));
                        break;
                    case 1:
                        group = "monitoring.coreos.com"; resource = "servicemonitors"; name = _app;
                        obj = new Obj().Add("apiVersion", "monitoring.coreos.com/v1").Add("kind", "ServiceMonitor").Add("metadata", JsonMeta(name))
                            .Add("spec", new Obj().Add("endpoints", L(new Obj().Add("port", "http").Add("path", "/metrics").Add("interval", "30s").Add("scrapeTimeout", "10s")
                                .Add("relabelings", L(new Obj().Add("sourceLabels", L("__meta_kubernetes_pod_node_name")).Add("targetLabel", "node").Add("action", "replace"),
                                                      new Obj().Add("sourceLabels", L("__meta_kubernetes_namespace")).Add("targetLabel", "namespace").Add("action", "replace")))))
                                .Add("selector", new Obj().Add("matchLabels", new Obj().Add("app", _app))).Add("namespaceSelector", new Obj().Add("matchNames", L(_ns))));
                        break;
                    default:
                        group = "argoproj.io"; resource = "applications"; name = _ns + "-" + _app;
                        obj = new Obj().Add("apiVersion", "argoproj.io/v1alpha1").Add("kind", "Application").Add("metadata", JsonMeta(name))
                            .Add("spec", new Obj().Add("project", _team).Add("source", new Obj().Add("repoURL", "https://github.com/acme/deploy.git").Add("path", "apps/" + _app).Add("targetRevision", "main")
                                .Add("helm", new Obj().Add("valueFiles", L("values.yaml", "values-prod.yaml"))))
                                .Add("destination", new Obj().Add("server", "https://kubernetes.default.svc").Add("namespace", _ns)).Add("syncPolicy", new Obj().Add("automated", new Obj().Add("prune", true).Add("selfHeal", true))))
                            .Add("status", new Obj().Add("sync", new Obj().Add("status", "Synced").Add("revision", Hex(40))).Add("health", new Obj().Add("status", "Healthy"))
                                .Add("resources", Enumerable.Range(0, 3 + _r.Next(8)).Select(i => (object)new Obj().Add("group", i % 2 == 0 ? "apps" : "").Add("version", "v1").Add("kind", new[] { "Deployment", "Service", "ConfigMap", "Secret" }[i % 4]).Add("namespace", _ns).Add("name", _app + (i < 4 ? "" : "-" + i)).Add("status", "Synced").Add("health", new Obj().Add("status", "Healthy"))).ToList())
                                .Add("reconciledAt", Time()).Add("operationState", new Obj().Add("phase", "Succeeded").Add("message", "successfully synced (all tasks run)").Add("startedAt", Time()).Add("finishedAt", Time())));
                        break;
                }
                return new KeyValue("/registry/" + group + "/" + resource + "/" + _ns + "/" + name, Json.Encode(obj));
            }

            private Obj JsonMeta(string name) => new Obj().Add("name", name).Add("namespace", _ns).Add("uid", Uid()).Add("resourceVersion", Rv()).Add("generation", (long)(1 + _r.Next(9)))
                .Add("creationTimestamp", Time()).Add("labels", Labels(false)).Add("annotations", new Obj().Add("meta.helm.sh/release-name", _app + "-prod").Add("meta.helm.sh/release-namespace", _ns))
                .Add("managedFields", L(new Obj().Add("apiVersion", "v1").Add("fieldsType", "FieldsV1").Add("fieldsV1", new Obj().Add("f:metadata", new Obj().Add("f:labels", new Obj().Add(".", new Obj()).Add("f:app", new Obj()))).Add("f:spec", new Obj()))
                    .Add("manager", "helm").Add("operation", "Update").Add("time", Time())));
        }
    }
}
