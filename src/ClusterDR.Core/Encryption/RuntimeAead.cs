using System;
using System.Reflection;
using System.Security.Cryptography;

namespace ClusterDR.Encryption
{
    /// <summary>
    /// The runtime's System.Security.Cryptography.ChaCha20Poly1305 (.NET 6+), reached by reflection because this
    /// assembly targets netstandard2.0. Byte-array overloads only, with per-thread buffers of a chunk's size.
    /// </summary>
    internal static class RuntimeAead
    {
        private static readonly Type AeadType = Find();
        private static readonly MethodInfo EncryptMethod = AeadType?.GetMethod("Encrypt", new[] { typeof(byte[]), typeof(byte[]), typeof(byte[]), typeof(byte[]), typeof(byte[]) });
        private static readonly MethodInfo DecryptMethod = AeadType?.GetMethod("Decrypt", new[] { typeof(byte[]), typeof(byte[]), typeof(byte[]), typeof(byte[]), typeof(byte[]) });

        [ThreadStatic] private static byte[] _in, _out;
        [ThreadStatic] private static byte[] _tag;

        /// <summary>Off when CLUSTERDR_MANAGED_AEAD=1 (a test of the managed path) or the platform lacks it.</summary>
        public static readonly bool Available = EncryptMethod != null && DecryptMethod != null &&
            Environment.GetEnvironmentVariable("CLUSTERDR_MANAGED_AEAD") != "1" && IsSupported();

        private static Type Find()
        {
            try { return Type.GetType("System.Security.Cryptography.ChaCha20Poly1305, System.Security.Cryptography", false) ?? typeof(Aes).Assembly.GetType("System.Security.Cryptography.ChaCha20Poly1305", false); }
            catch { return null; }
        }

        private static bool IsSupported()
        {
            try
            {
                var p = AeadType.GetProperty("IsSupported", BindingFlags.Public | BindingFlags.Static);
                if (p != null && !(bool)p.GetValue(null)) return false;
                // One round trip against BouncyCastle's: a platform whose type misbehaves is not used.
                var key = AgePrimitives.Random(32);
                var nonce = new byte[12];
                var plain = AgePrimitives.Random(100);
                var a = new byte[116];
                var b = new byte[116];
                return Seal(true, key, nonce, plain, 0, plain.Length, a, 0) && AgePrimitives.SealManaged(true, key, nonce, plain, 0, plain.Length, b, 0) &&
                       System.Linq.Enumerable.SequenceEqual(a, b);
            }
            catch { return false; }
        }

        public static bool Seal(bool encrypt, byte[] key, byte[] nonce, byte[] input, int offset, int count, byte[] output, int outOffset)
        {
            int plainLength = encrypt ? count : count - 16;
            if (plainLength < 0) return false;
            var src = Buffer(ref _in, plainLength);
            var dst = Buffer(ref _out, plainLength);
            var tag = _tag ?? (_tag = new byte[16]);
            using (var aead = (IDisposable)Activator.CreateInstance(AeadType, key))
            {
                if (encrypt)
                {
                    System.Buffer.BlockCopy(input, offset, src, 0, plainLength);
                    EncryptMethod.Invoke(aead, new object[] { nonce, src, dst, tag, null });
                    System.Buffer.BlockCopy(dst, 0, output, outOffset, plainLength);
                    System.Buffer.BlockCopy(tag, 0, output, outOffset + plainLength, 16);
                    return true;
                }
                System.Buffer.BlockCopy(input, offset, src, 0, plainLength);
                System.Buffer.BlockCopy(input, offset + plainLength, tag, 0, 16);
                try { DecryptMethod.Invoke(aead, new object[] { nonce, src, tag, dst, null }); }
                catch (TargetInvocationException ex) when (ex.InnerException is CryptographicException) { return false; }
                System.Buffer.BlockCopy(dst, 0, output, outOffset, plainLength);
                return true;
            }
        }

        private static byte[] Buffer(ref byte[] cached, int length)
        {
            if (cached == null || cached.Length != length) cached = new byte[length];
            return cached;
        }
    }
}
