using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// What a rehearsal compares an etcd backup with, read at the revision the backup records: the number of keys and a
    /// sample (the first keys by name, each with its mod revision and a hash of its value). Both come from one range
    /// request, whose count is the whole range's whatever its limit: each range walks every key, so one, not three. Read through a range
    /// function, so the same code serves the JSON gateway and etcdctl -w json on a node, and the rehearsal's own member.
    /// </summary>
    public sealed class EtcdKeyFacts
    {
        public const string CountFact = "keyCount";
        public const string SampleFact = "keySample";
        /// <summary>Keys in the sample.</summary>
        public const int SampleSize = 16;

        public long Count { get; private set; }
        /// <summary>key (base64) → "modRevision:sha256-prefix of the value".</summary>
        public IDictionary<string, string> Sample { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>A request of etcd's RangeRequest (JSON gateway field names) over every key at <paramref name="revision"/>.</summary>
        public static JObject Request(long revision, int limit) => new JObject
        {
            ["key"] = "AA==", ["range_end"] = "AA==",
            ["revision"] = revision.ToString(CultureInfo.InvariantCulture), ["limit"] = limit.ToString(CultureInfo.InvariantCulture),
        };

        /// <summary>Counts and samples through <paramref name="range"/>, which answers a RangeRequest as etcd's JSON.</summary>
        public static EtcdKeyFacts Read(Func<JObject, JObject> range, long revision)
        {
            var answer = range(Request(revision, SampleSize));
            var facts = new EtcdKeyFacts { Count = (long)EtcdClient.U64(answer["count"]) };
            foreach (var kv in (answer["kvs"] as JArray) ?? new JArray()) facts.Sample[(string)kv["key"]] = Entry(kv);
            return facts;
        }

        /// <summary>The entry of one key: its mod revision and the first 16 hex digits of its value's SHA-256.</summary>
        public static string Entry(JToken kv)
        {
            byte[] value = Convert.FromBase64String((string)kv["value"] ?? "");
            using (var sha = SHA256.Create())
            {
                string hex = string.Concat(sha.ComputeHash(value).Take(8).Select(b => b.ToString("x2")));
                return EtcdClient.U64(kv["mod_revision"]).ToString(CultureInfo.InvariantCulture) + ":" + hex;
            }
        }

        public void AddTo(IDictionary<string, string> manifestFacts)
        {
            manifestFacts[CountFact] = Count.ToString(CultureInfo.InvariantCulture);
            manifestFacts[SampleFact] = string.Join(";", Sample.Select(kv => kv.Key + "=" + kv.Value));
        }

        /// <summary>The sample a manifest recorded (empty when it recorded none).</summary>
        public static IDictionary<string, string> ParseSample(string fact)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var part in (fact ?? "").Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = part.LastIndexOf('=');
                if (eq > 0) d[part.Substring(0, eq)] = part.Substring(eq + 1);
            }
            return d;
        }

        /// <summary>A key of the sample as text, for messages (its bytes are not always text).</summary>
        public static string Display(string base64Key)
        {
            try
            {
                string s = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(base64Key));
                return s.Any(char.IsControl) ? base64Key : s;
            }
            catch (Exception) { return base64Key; }
        }
    }
}
