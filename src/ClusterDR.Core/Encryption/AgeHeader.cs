using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace ClusterDR.Encryption
{
    /// <summary>One "-> type args…" stanza of an age header and its body.</summary>
    internal sealed class AgeStanza
    {
        public AgeStanza(string type, string[] args, byte[] body)
        {
            Type = type;
            Args = args;
            Body = body;
        }

        public string Type { get; }
        public string[] Args { get; }
        public byte[] Body { get; }

        public void Encode(StringBuilder sb)
        {
            sb.Append("-> ").Append(Type);
            foreach (var a in Args) sb.Append(' ').Append(a);
            sb.Append('\n');
            // Body lines are 64 columns; the last is shorter (empty when the body fills its last line).
            string b = AgePrimitives.B64(Body);
            for (int i = 0; ; i += 64)
            {
                int n = Math.Min(64, b.Length - i);
                sb.Append(b, i, n).Append('\n');
                if (n < 64) break;
            }
        }
    }

    /// <summary>
    /// An age v1 header: the version line, the stanzas that each wrap the file key for one recipient (or the
    /// passphrase), and the MAC over all of it under a key derived from the file key.
    /// </summary>
    internal sealed class AgeHeader
    {
        /// <summary>Headers longer than this are refused: a thousand recipients fit in far less.</summary>
        public const int MaxLength = 1 << 20;

        private AgeHeader(List<AgeStanza> stanzas, byte[] macInput, byte[] mac, int length)
        {
            Stanzas = stanzas;
            MacInput = macInput;
            Mac = mac;
            Length = length;
        }

        public IReadOnlyList<AgeStanza> Stanzas { get; }
        /// <summary>The header's bytes up to and including "---", which the MAC covers.</summary>
        private byte[] MacInput { get; }
        private byte[] Mac { get; }
        /// <summary>Bytes from the start of the file to the payload's nonce.</summary>
        public int Length { get; }

        public static byte[] Encode(IEnumerable<AgeStanza> stanzas, byte[] fileKey)
        {
            var sb = new StringBuilder(AgePrimitives.Version).Append('\n');
            foreach (var s in stanzas) s.Encode(sb);
            sb.Append("---");
            var macInput = Encoding.ASCII.GetBytes(sb.ToString());
            var mac = AgePrimitives.HmacSha256(AgePrimitives.Hkdf(fileKey, null, "header"), macInput);
            return Encoding.ASCII.GetBytes(sb.Append(' ').Append(AgePrimitives.B64(mac)).Append('\n').ToString());
        }

        /// <summary>Whether the file key verifies the header's MAC (in constant time).</summary>
        public bool Verifies(byte[] fileKey)
        {
            var expected = AgePrimitives.HmacSha256(AgePrimitives.Hkdf(fileKey, null, "header"), MacInput);
            if (expected.Length != Mac.Length) return false;
            int d = 0;
            for (int i = 0; i < expected.Length; i++) d |= expected[i] ^ Mac[i];
            return d == 0;
        }

        /// <summary>Reads the header from the start of <paramref name="s"/>; null when the bytes are not a well-formed age v1 header.</summary>
        public static AgeHeader Read(Stream s)
        {
            var lines = new List<string>();
            var raw = new MemoryStream();
            var line = new StringBuilder();
            int b;
            while ((b = s.ReadByte()) >= 0)
            {
                if (raw.Length >= MaxLength) return null;
                raw.WriteByte((byte)b);
                if (b == '\n')
                {
                    string l = line.ToString();
                    line.Clear();
                    lines.Add(l);
                    if (l.StartsWith("---", StringComparison.Ordinal)) return Parse(lines, raw.ToArray());
                    continue;
                }
                if (b < 0x20 || b > 0x7e) return null;
                line.Append((char)b);
            }
            return null;
        }

        private static AgeHeader Parse(List<string> lines, byte[] raw)
        {
            if (lines.Count < 2 || lines[0] != AgePrimitives.Version) return null;
            var stanzas = new List<AgeStanza>();
            int i = 1;
            while (i < lines.Count - 1)
            {
                if (!lines[i].StartsWith("-> ", StringComparison.Ordinal)) return null;
                var parts = lines[i].Substring(3).Split(' ');
                if (parts.Any(p => p.Length == 0)) return null;
                i++;
                var body = new StringBuilder();
                while (true)
                {
                    if (i >= lines.Count - 1) return null;
                    string l = lines[i++];
                    if (l.Length > 64) return null;
                    body.Append(l);
                    if (l.Length < 64) break;
                }
                var bytes = AgePrimitives.FromB64(body.ToString());
                if (bytes == null) return null;
                stanzas.Add(new AgeStanza(parts[0], parts.Skip(1).ToArray(), bytes));
            }
            string last = lines[lines.Count - 1];
            if (!last.StartsWith("--- ", StringComparison.Ordinal)) return null;
            var mac = AgePrimitives.FromB64(last.Substring(4));
            if (mac == null || mac.Length != 32 || stanzas.Count == 0) return null;
            int macInputLength = raw.Length - last.Length - 1 + 3;
            var macInput = new byte[macInputLength];
            Buffer.BlockCopy(raw, 0, macInput, 0, macInputLength);
            return new AgeHeader(stanzas, macInput, mac, raw.Length);
        }
    }
}
