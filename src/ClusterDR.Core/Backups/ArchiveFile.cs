using ClusterDR.Stores;

namespace ClusterDR.Backups
{
    /// <summary>
    /// What a reader learns of one archive before it decompresses: where it is, its length, its first bytes and
    /// (once asked) its last ones. Read once per open, so a listing of a remote store costs one small ranged read
    /// for the trailer, not a request per question.
    /// </summary>
    internal sealed class ArchiveFile
    {
        public const int HeadLength = 8;
        public const int TailLength = 24; // ClusterDR's zstd trailer frame; gzip's trailer is its last 8

        private byte[] _tail;

        private ArchiveFile(BackupLocation location, long length, byte[] head)
        {
            Location = location;
            Length = length;
            Head = head;
        }

        public static ArchiveFile Probe(BackupLocation location) =>
            new ArchiveFile(location, location.Length(), location.ReadHead(HeadLength));

        public BackupLocation Location { get; }
        public string Display => Location.Display;
        public long Length { get; }
        public byte[] Head { get; }
        public byte[] Tail => _tail ?? (_tail = Location.ReadTail(TailLength, Length));

        /// <summary>The last <paramref name="count"/> (≤ 24) bytes, or null when the file is shorter.</summary>
        public byte[] Last(int count)
        {
            var t = Tail;
            if (t.Length < count) return null;
            var r = new byte[count];
            System.Buffer.BlockCopy(t, t.Length - count, r, 0, count);
            return r;
        }
    }
}
