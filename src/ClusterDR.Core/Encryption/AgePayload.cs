namespace ClusterDR.Encryption
{
    /// <summary>age's STREAM payload: 64 KiB chunks, each sealed with its counter and a flag on the last, after a 16-byte nonce.</summary>
    internal static class AgePayload
    {
        public const int Chunk = 64 * 1024;
        public const int Sealed = Chunk + 16;
        public const int NonceLength = 16;

        public static byte[] Key(byte[] fileKey, byte[] nonce) => AgePrimitives.Hkdf(fileKey, nonce, "payload");

        public static byte[] ChunkNonce(long index, bool last)
        {
            var n = new byte[12];
            for (int i = 10; i >= 0 && index > 0; i--, index >>= 8) n[i] = (byte)index;
            n[11] = last ? (byte)1 : (byte)0;
            return n;
        }

        /// <summary>The plaintext length of a payload of <paramref name="sealedLength"/> bytes (after the nonce); -1 when no payload is that long.</summary>
        public static long PlainLength(long sealedLength)
        {
            if (sealedLength < 16) return -1;
            long chunks = (sealedLength + Sealed - 1) / Sealed;
            long lastSealed = sealedLength - (chunks - 1) * Sealed;
            if (lastSealed < 16 || (lastSealed == 16 && chunks > 1)) return -1;
            return sealedLength - 16 * chunks;
        }

        /// <summary>The sealed length of <paramref name="plainLength"/> bytes: an empty payload is one empty chunk.</summary>
        public static long SealedLength(long plainLength)
        {
            long chunks = plainLength == 0 ? 1 : (plainLength + Chunk - 1) / Chunk;
            return plainLength + 16 * chunks;
        }
    }
}
