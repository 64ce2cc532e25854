using ClusterDR.Encryption;
using ClusterDR.Stores;

namespace ClusterDR.Backups
{
    /// <summary>
    /// What a reader learns of one archive before it decompresses: where it is, its length, its first bytes and
    /// (once asked) its last ones. Read once per open, so a listing of a remote store costs one small ranged read
    /// for the trailer, not a request per question. An age-encrypted archive answers the same questions of its
    /// plaintext once unlocked (<see cref="Age"/>), chunk by chunk, and its clear metadata without a key.
    /// </summary>
    internal sealed class ArchiveFile
    {
        public const int HeadLength = 8;
        public const int TailLength = 24; // ClusterDR's zstd trailer frame; gzip's trailer is its last 8

        private byte[] _tail;
        private byte[] _head;

        private ArchiveFile(BackupLocation location, long length, byte[] head, AgeFile age)
        {
            Location = location;
            FileLength = length;
            _head = head;
            Age = age;
        }

        public static ArchiveFile Probe(BackupLocation location)
        {
            long length = location.Length();
            var head = location.ReadHead(HeadLength);
            return new ArchiveFile(location, length, head, AgeFile.IsAge(head) ? AgeFile.Open(location, length) : null);
        }

        public BackupLocation Location { get; }
        public string Display => Location.Display;
        /// <summary>The file's (object's) own length.</summary>
        public long FileLength { get; }
        /// <summary>The age view of an encrypted archive, else null.</summary>
        public AgeFile Age { get; }
        public bool Encrypted => Age != null;
        /// <summary>The archive's length: the file's, or an encrypted one's plaintext.</summary>
        public long Length => Age == null ? FileLength : Age.PlainLength;
        /// <summary>The first bytes: the file's, or once <see cref="Unlock"/>ed an encrypted one's plaintext.</summary>
        public byte[] Head => _head;
        public byte[] Tail => _tail ?? (_tail = Age == null ? Location.ReadTail(TailLength, FileLength) : Age.PlainTail(TailLength));

        /// <summary>Unlocks an encrypted archive with the location's keys (no-op for a plain one); the head is then the plaintext's.</summary>
        public void Unlock()
        {
            if (Age == null || Age.Unlocked) return;
            Age.Unlock(Location.Keys);
            _head = Age.PlainHead(HeadLength);
        }

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
