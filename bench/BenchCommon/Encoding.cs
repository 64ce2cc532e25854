using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ClusterDR.Bench.Common
{
    /// <summary>
    /// A tiny document model for generated objects: string, long, bool, null, List&lt;object&gt; (array) and
    /// Obj (ordered fields). Serialised as JSON (what etcd holds for custom resources) or as protobuf in
    /// Kubernetes' storage envelope (what it holds for built-in kinds).
    /// </summary>
    public sealed class Obj : List<KeyValuePair<string, object>>
    {
        public Obj Add(string k, object v) { Add(new KeyValuePair<string, object>(k, v)); return this; }
    }

    /// <summary>Raw bytes: protobuf writes them as they are, JSON as base64 (like Secret.data).</summary>
    public sealed class Bytes { public byte[] Value; public Bytes(byte[] v) { Value = v; } }

    /// <summary>A nested object that protobuf stores as a JSON byte string (managedFields' fieldsV1, as Kubernetes does).</summary>
    public sealed class RawJson { public object Value; public RawJson(object v) { Value = v; } }

    public static class Json
    {
        public static byte[] Encode(object v)
        {
            var sb = new StringBuilder(4096);
            Write(sb, v);
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        public static void Write(StringBuilder sb, object v)
        {
            switch (v)
            {
                case null: sb.Append("null"); break;
                case string s: Str(sb, s); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case long l: sb.Append(l); break;
                case int i: sb.Append(i); break;
                case Bytes by: Str(sb, Convert.ToBase64String(by.Value)); break;
                case RawJson r: Write(sb, r.Value); break;
                case Obj o:
                    sb.Append('{');
                    for (int i = 0; i < o.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        Str(sb, o[i].Key); sb.Append(':'); Write(sb, o[i].Value);
                    }
                    sb.Append('}');
                    break;
                case List<object> a:
                    sb.Append('[');
                    for (int i = 0; i < a.Count; i++) { if (i > 0) sb.Append(','); Write(sb, a[i]); }
                    sb.Append(']');
                    break;
                default: throw new ArgumentException("unsupported " + v.GetType());
            }
        }

        private static void Str(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                if (c == '"' || c == '\\') sb.Append('\\').Append(c);
                else if (c == '\n') sb.Append("\\n");
                else if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4"));
                else sb.Append(c);
            }
            sb.Append('"');
        }
    }

    /// <summary>
    /// Protobuf the way Kubernetes stores built-in objects: the bytes "k8s\0", then a runtime.Unknown
    /// message (1: TypeMeta{1: apiVersion, 2: kind}, 2: raw = the object's own protobuf, 3: contentEncoding,
    /// 4: contentType). Field numbers follow the order of an Obj's fields (as generated .proto files number
    /// them); maps are repeated {1: key, 2: value} entries, as in protobuf.
    /// </summary>
    public static class K8sProto
    {
        private static readonly byte[] Magic = { (byte)'k', (byte)'8', (byte)'s', 0 };

        public static byte[] Envelope(string apiVersion, string kind, Obj obj)
        {
            var raw = Message(obj);
            var typeMeta = new MemoryStream();
            Bytes(typeMeta, 1, Encoding.UTF8.GetBytes(apiVersion));
            Bytes(typeMeta, 2, Encoding.UTF8.GetBytes(kind));
            var ms = new MemoryStream(raw.Length + 64);
            ms.Write(Magic, 0, 4);
            Bytes(ms, 1, typeMeta.ToArray());
            Bytes(ms, 2, raw);
            Bytes(ms, 3, new byte[0]);
            Bytes(ms, 4, new byte[0]);
            return ms.ToArray();
        }

        /// <summary>Fields whose values are string maps (labels, annotations, data...): written as map entries.</summary>
        private static readonly HashSet<string> Maps = new HashSet<string> { "labels", "annotations", "data", "selector", "matchLabels", "nodeSelector", "limits", "requests", "capacity", "allocatable" };

        public static byte[] Message(Obj o)
        {
            var ms = new MemoryStream(1024);
            int field = 1;
            foreach (var kv in o) Field(ms, field++, kv.Value, Maps.Contains(kv.Key));
            return ms.ToArray();
        }

        private static void Field(Stream s, int field, object v, bool map)
        {
            switch (v)
            {
                case null: break;
                case string str: Bytes(s, field, Encoding.UTF8.GetBytes(str)); break;
                case bool b: Tag(s, field, 0); Varint(s, b ? 1UL : 0UL); break;
                case long l: Tag(s, field, 0); Varint(s, unchecked((ulong)l)); break;
                case int i: Tag(s, field, 0); Varint(s, unchecked((ulong)(long)i)); break;
                case Bytes by: Bytes(s, field, by.Value); break;
                case RawJson r: Bytes(s, field, Json.Encode(r.Value)); break;
                case Obj o when map:
                    foreach (var kv in o)
                    {
                        var e = new MemoryStream();
                        Field(e, 1, kv.Key, false);
                        Field(e, 2, kv.Value, false);
                        Bytes(s, field, e.ToArray());
                    }
                    break;
                case Obj o: Bytes(s, field, Message(o)); break;
                case List<object> a: foreach (var x in a) Field(s, field, x, false); break;
                default: throw new ArgumentException("unsupported " + v.GetType());
            }
        }

        private static void Bytes(Stream s, int field, byte[] b) { Tag(s, field, 2); Varint(s, (ulong)b.Length); s.Write(b, 0, b.Length); }
        private static void Tag(Stream s, int field, int wire) => Varint(s, (ulong)((field << 3) | wire));

        private static void Varint(Stream s, ulong v)
        {
            while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
            s.WriteByte((byte)v);
        }
    }
}
