using System;
using System.Text;

namespace ClusterDR.Encryption
{
    /// <summary>BIP 173 Bech32, the text form of age's keys: "age1…" recipients and "AGE-SECRET-KEY-1…" identities.</summary>
    internal static class Bech32
    {
        private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
        private static readonly uint[] Generator = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };

        public static string Encode(string hrp, byte[] data, bool upper)
        {
            string h = hrp.ToLowerInvariant();
            var values = ConvertBits(data, 8, 5, pad: true);
            var checksum = Checksum(h, values);
            var sb = new StringBuilder(h).Append('1');
            foreach (var v in values) sb.Append(Charset[v]);
            foreach (var v in checksum) sb.Append(Charset[v]);
            return upper ? sb.ToString().ToUpperInvariant() : sb.ToString();
        }

        /// <summary>The human-readable part (lower case) and the data, or null when the text is no valid Bech32.</summary>
        public static (string Hrp, byte[] Data)? Decode(string text)
        {
            if (string.IsNullOrEmpty(text)) return null;
            bool lower = text != text.ToUpperInvariant(), upperCase = text != text.ToLowerInvariant();
            if (lower && upperCase) return null; // mixed case is never valid
            string s = text.ToLowerInvariant();
            int sep = s.LastIndexOf('1');
            if (sep < 1 || sep + 7 > s.Length) return null;
            string hrp = s.Substring(0, sep);
            foreach (char c in hrp) if (c < 33 || c > 126) return null;
            var values = new byte[s.Length - sep - 1];
            for (int i = 0; i < values.Length; i++)
            {
                int v = Charset.IndexOf(s[sep + 1 + i]);
                if (v < 0) return null;
                values[i] = (byte)v;
            }
            if (Polymod(Expand(hrp, values)) != 1) return null;
            var payload = new byte[values.Length - 6];
            Array.Copy(values, payload, payload.Length);
            var data = ConvertBits(payload, 5, 8, pad: false);
            return data == null ? ((string, byte[])?)null : (hrp, data);
        }

        private static byte[] Checksum(string hrp, byte[] values)
        {
            var e = Expand(hrp, values);
            var withZeros = new byte[e.Length + 6];
            Array.Copy(e, withZeros, e.Length);
            uint mod = Polymod(withZeros) ^ 1;
            var r = new byte[6];
            for (int i = 0; i < 6; i++) r[i] = (byte)((mod >> (5 * (5 - i))) & 31);
            return r;
        }

        private static byte[] Expand(string hrp, byte[] values)
        {
            var r = new byte[hrp.Length * 2 + 1 + values.Length];
            for (int i = 0; i < hrp.Length; i++)
            {
                r[i] = (byte)(hrp[i] >> 5);
                r[hrp.Length + 1 + i] = (byte)(hrp[i] & 31);
            }
            Array.Copy(values, 0, r, hrp.Length * 2 + 1, values.Length);
            return r;
        }

        private static uint Polymod(byte[] values)
        {
            uint chk = 1;
            foreach (var v in values)
            {
                uint top = chk >> 25;
                chk = ((chk & 0x1ffffff) << 5) ^ v;
                for (int i = 0; i < 5; i++) if (((top >> i) & 1) != 0) chk ^= Generator[i];
            }
            return chk;
        }

        private static byte[] ConvertBits(byte[] data, int from, int to, bool pad)
        {
            int acc = 0, bits = 0, maxv = (1 << to) - 1;
            var r = new System.Collections.Generic.List<byte>();
            foreach (var b in data)
            {
                acc = (acc << from) | b;
                bits += from;
                while (bits >= to)
                {
                    bits -= to;
                    r.Add((byte)((acc >> bits) & maxv));
                }
            }
            if (pad) { if (bits > 0) r.Add((byte)((acc << (to - bits)) & maxv)); }
            else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) return null;
            return r.ToArray();
        }
    }
}
