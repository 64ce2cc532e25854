namespace ClusterDR.Backups
{
    /// <summary>
    /// CRC-32 as gzip uses it (IEEE, reflected), plus zlib's crc32_combine: the CRC of A‖B from
    /// CRC(A), CRC(B) and len(B). Lets a finished gzip member be given a new beginning without
    /// re-reading the (possibly huge) rest.
    /// </summary>
    public static class Crc32
    {
        private static readonly uint[] Table = MakeTable();

        private static uint[] MakeTable()
        {
            var t = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                t[n] = c;
            }
            return t;
        }

        /// <summary>CRC-32, table-driven: for headers, and for the second pass over a gzip file zlib refused (never on the normal path).</summary>
        public static uint Compute(byte[] data, int offset, int count, uint crc = 0)
        {
            crc = ~crc;
            for (int i = offset; i < offset + count; i++) crc = Table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
            return ~crc;
        }

        /// <summary>CRC-32 of A‖B, where <paramref name="crcA"/> = CRC(A), <paramref name="crcB"/> = CRC(B), <paramref name="lengthB"/> = len(B).</summary>
        public static uint Combine(uint crcA, uint crcB, long lengthB)
        {
            if (lengthB <= 0) return crcA;
            // Multiplying crcA by x^(8·lengthB) in GF(2) = applying "append one zero bit" lengthB·8 times,
            // done by repeated squaring of the 32×32 operator matrix (zlib's method).
            var even = new uint[32];
            var odd = new uint[32];
            odd[0] = 0xEDB88320u;
            uint row = 1;
            for (int n = 1; n < 32; n++) { odd[n] = row; row <<= 1; }
            Square(even, odd); // two zero bits
            Square(odd, even); // four zero bits
            do
            {
                Square(even, odd);
                if ((lengthB & 1) != 0) crcA = Times(even, crcA);
                lengthB >>= 1;
                if (lengthB == 0) break;
                Square(odd, even);
                if ((lengthB & 1) != 0) crcA = Times(odd, crcA);
                lengthB >>= 1;
            } while (lengthB != 0);
            return crcA ^ crcB;
        }

        private static uint Times(uint[] mat, uint vec)
        {
            uint sum = 0;
            for (int i = 0; vec != 0; i++, vec >>= 1)
                if ((vec & 1) != 0) sum ^= mat[i];
            return sum;
        }

        private static void Square(uint[] square, uint[] mat)
        {
            for (int n = 0; n < 32; n++) square[n] = Times(mat, mat[n]);
        }
    }
}
