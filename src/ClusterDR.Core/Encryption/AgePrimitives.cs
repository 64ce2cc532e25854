using System;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace ClusterDR.Encryption
{
    /// <summary>
    /// The primitives age-encryption.org/v1 is built of (HKDF-SHA-256, ChaCha20-Poly1305, X25519, scrypt), in the one
    /// place that touches BouncyCastle: netstandard2.0 has none of them.
    /// </summary>
    internal static class AgePrimitives
    {
        public const string Version = "age-encryption.org/v1";

        public static byte[] Random(int count)
        {
            var b = new byte[count];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(b);
            return b;
        }

        public static byte[] Hkdf(byte[] ikm, byte[] salt, string info, int length = 32)
        {
            var g = new HkdfBytesGenerator(new Sha256Digest());
            g.Init(new HkdfParameters(ikm, salt ?? new byte[0], System.Text.Encoding.ASCII.GetBytes(info)));
            var r = new byte[length];
            g.GenerateBytes(r, 0, length);
            return r;
        }

        public static byte[] HmacSha256(byte[] key, byte[] data)
        {
            using (var h = new HMACSHA256(key)) return h.ComputeHash(data);
        }

        /// <summary>
        /// ChaCha20-Poly1305 of <paramref name="count"/> bytes into <paramref name="output"/> (ciphertext then tag, as
        /// age lays them out); false when the tag does not verify. On .NET 6 and later (PowerShell 7) the runtime's own
        /// implementation (OpenSSL, CNG) seals a chunk several times faster than BouncyCastle's netstandard2.0 build,
        /// which has no SIMD; Windows PowerShell 5.1 has no such type, and BouncyCastle does the work there.
        /// </summary>
        public static bool Seal(bool encrypt, byte[] key, byte[] nonce, byte[] input, int offset, int count, byte[] output, int outOffset) =>
            RuntimeAead.Available ? RuntimeAead.Seal(encrypt, key, nonce, input, offset, count, output, outOffset)
                                  : SealManaged(encrypt, key, nonce, input, offset, count, output, outOffset);

        /// <summary>BouncyCastle's ChaCha20-Poly1305: everywhere, and what the runtime's is tested against.</summary>
        internal static bool SealManaged(bool encrypt, byte[] key, byte[] nonce, byte[] input, int offset, int count, byte[] output, int outOffset)
        {
            var c = new ChaCha20Poly1305();
            c.Init(encrypt, new AeadParameters(new KeyParameter(key), 128, nonce));
            try
            {
                int n = c.ProcessBytes(input, offset, count, output, outOffset);
                c.DoFinal(output, outOffset + n);
                return true;
            }
            catch (Org.BouncyCastle.Crypto.InvalidCipherTextException) { return false; }
        }

        /// <summary>A file key (or other 16 bytes) wrapped under <paramref name="key"/> with the zero nonce, as age's stanzas carry it.</summary>
        public static byte[] Wrap(byte[] key, byte[] fileKey)
        {
            var r = new byte[fileKey.Length + 16];
            Seal(true, key, new byte[12], fileKey, 0, fileKey.Length, r, 0);
            return r;
        }

        /// <summary>The unwrapped file key, or null when the body was not wrapped under <paramref name="key"/>.</summary>
        public static byte[] Unwrap(byte[] key, byte[] body)
        {
            if (body.Length != 32) return null;
            var r = new byte[16];
            return Seal(false, key, new byte[12], body, 0, body.Length, r, 0) ? r : null;
        }

        public static byte[] X25519(byte[] scalar, byte[] point)
        {
            var r = new byte[32];
            Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(scalar, 0, point, 0, r, 0);
            return r;
        }

        public static byte[] X25519Base(byte[] scalar)
        {
            var r = new byte[32];
            Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMultBase(scalar, 0, r, 0);
            return r;
        }

        public static byte[] Scrypt(byte[] passphrase, byte[] salt, int logN) =>
            SCrypt.Generate(passphrase, salt, 1 << logN, 8, 1, 32);

        /// <summary>age's base64: the standard alphabet without padding.</summary>
        public static string B64(byte[] data) => Convert.ToBase64String(data).TrimEnd('=');

        /// <summary>Decodes age's unpadded base64; null when it is padded, not canonical or no base64.</summary>
        public static byte[] FromB64(string text)
        {
            if (text == null || text.IndexOf('=') >= 0) return null;
            try
            {
                var r = Convert.FromBase64String(text + new string('=', (4 - text.Length % 4) % 4));
                return B64(r) == text ? r : null;
            }
            catch (FormatException) { return null; }
        }
    }
}
