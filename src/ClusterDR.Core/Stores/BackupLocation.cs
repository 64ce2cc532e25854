using System.IO;
using System.Threading;

namespace ClusterDR.Stores
{
    /// <summary>
    /// One backup archive where it lives: a store and a key. A plain string is a local path, so the engine's
    /// callers that know only paths keep working.
    /// </summary>
    public sealed class BackupLocation
    {
        public BackupLocation(BackupStore store, string key)
        {
            Store = store ?? LocalStore.Instance;
            Key = store == null ? Path.GetFullPath(key) : key;
        }

        public BackupStore Store { get; }
        public string Key { get; }

        /// <summary>The keys that open the archive when it is encrypted (null: none given; a listing needs none).</summary>
        public Encryption.AgeKeyring Keys { get; private set; }

        /// <summary>The same archive, read with <paramref name="keys"/>.</summary>
        public BackupLocation WithKeys(Encryption.AgeKeyring keys) => keys == null ? this : new BackupLocation(Store, Key) { Keys = keys };

        /// <summary>The path or URI shown to the operator and recorded as ClusterBackup.Path.</summary>
        public string Display => Store.Describe(Key);
        public string Name => Store.NameOf(Key);
        public bool IsLocal => Store is LocalStore;

        public static implicit operator BackupLocation(string path) => path == null ? null : new BackupLocation(null, path);

        internal Stream OpenRead(CancellationToken ct = default) => Store.OpenRead(Key, 0, null, ct);

        /// <summary>The object's length, BackupNotFound when there is none.</summary>
        internal long Length(CancellationToken ct = default) =>
            (Store.Stat(Key, ct) ?? throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup archive at '{Display}'.", Display)).Length;

        /// <summary>Up to <paramref name="count"/> bytes from the front.</summary>
        internal byte[] ReadHead(int count, CancellationToken ct = default)
        {
            using (var s = Store.OpenRead(Key, 0, count, ct)) return ReadUpTo(s, count);
        }

        /// <summary>The last <paramref name="count"/> bytes, or fewer when the object is shorter.</summary>
        internal byte[] ReadTail(int count, long length, CancellationToken ct = default)
        {
            long from = System.Math.Max(0, length - count);
            using (var s = Store.OpenRead(Key, from, length - from, ct)) return ReadUpTo(s, (int)(length - from));
        }

        private static byte[] ReadUpTo(Stream s, int count)
        {
            var buf = new byte[count];
            int n = 0;
            for (int r; n < count && (r = s.Read(buf, n, count - n)) > 0;) n += r;
            if (n == count) return buf;
            var shorter = new byte[n];
            System.Buffer.BlockCopy(buf, 0, shorter, 0, n);
            return shorter;
        }

        public override string ToString() => Display;
    }
}
