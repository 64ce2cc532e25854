using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace ClusterDR.Stores
{
    /// <summary>A directory on this machine (or a mounted share): keys are full paths.</summary>
    public sealed class LocalStore : BackupStore
    {
        /// <summary>The store of plain paths, where every backup lived before stores.</summary>
        public static readonly LocalStore Instance = new LocalStore(null);

        public LocalStore(string root) { Root = root == null ? null : Path.GetFullPath(root); }

        public string Root { get; }
        public override string Kind => "Local";
        public override string Location => Root ?? "(local paths)";
        public override string Prefix => Root ?? "";
        public override string Describe(string key) => key;
        public override string NameOf(string key) => Path.GetFileName(key);

        public override string Combine(string folder, string name) =>
            Path.GetFullPath(Path.Combine(string.IsNullOrEmpty(folder) ? Root ?? Directory.GetCurrentDirectory() : Path.Combine(Root ?? "", folder), name));

        internal override IEnumerable<StoreObject> List(string prefix, bool recurse, CancellationToken ct)
        {
            string dir = Path.GetFullPath(string.IsNullOrEmpty(prefix) ? Root ?? "." : prefix);
            foreach (var f in Directory.EnumerateFiles(dir, "*", recurse ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
            {
                var info = new FileInfo(f);
                yield return new StoreObject(info.FullName, info.Length, info.LastWriteTimeUtc);
            }
        }

        internal override StoreObject Stat(string key, CancellationToken ct)
        {
            var info = new FileInfo(key);
            return info.Exists ? new StoreObject(info.FullName, info.Length, info.LastWriteTimeUtc) : null;
        }

        internal override Stream OpenRead(string key, long offset, long? count, CancellationToken ct)
        {
            if (!File.Exists(key))
                throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup archive at '{key}'.", key);
            var f = new FileStream(key, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            if (offset > 0) f.Seek(offset, SeekOrigin.Begin);
            return count == null ? (Stream)f : new BoundedReadStream(f, count.Value);
        }

        internal override IStoreUpload BeginUpload(string key, CancellationToken ct) => new LocalUpload(key);

        internal override void Delete(string key, CancellationToken ct) => File.Delete(key);

        internal override string StagingDirectory(string key) => Path.GetDirectoryName(key);

        /// <summary>key.&lt;token&gt;.partial, 0600, flushed to disk and linked into place at Commit (never over a file).</summary>
        private sealed class LocalUpload : IStoreUpload
        {
            private readonly string _key, _partial;
            private readonly FileStream _file;
            private bool _committed;

            public LocalUpload(string key)
            {
                _key = key;
                Directory.CreateDirectory(Path.GetDirectoryName(key));
                if (File.Exists(key))
                    throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists, $"A backup named '{key}' already exists; it is never overwritten.", key, surfaceAsIs: true);
                _partial = key + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".partial";
                _file = new FileStream(_partial, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 18);
                FileModes.TrySetOwnerOnly(_partial);
            }

            public Stream Stream => _file;
            public long PatchableLength => long.MaxValue;

            public void Commit(CancellationToken ct)
            {
                _file.Flush(true);
                _file.Dispose();
                if (!LocalFiles.MoveNoReplace(_partial, _key))
                    throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists,
                        $"Another backup named '{_key}' finished first, while this one was being written; that backup is kept as it is and this run's copy was discarded, so nothing was lost.",
                        _key, surfaceAsIs: true);
                _committed = true;
            }

            public void Dispose()
            {
                try { _file.Dispose(); } catch { }
                if (!_committed) { try { File.Delete(_partial); } catch { } }
            }
        }
    }

    /// <summary>Reads at most a given number of bytes of an inner stream, then owns and closes it.</summary>
    internal sealed class BoundedReadStream : Backups.ReadOnlyStream
    {
        private readonly Stream _inner;
        private long _left;
        public BoundedReadStream(Stream inner, long count) { _inner = inner; _left = count; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left <= 0) return 0;
            int n = _inner.Read(buffer, offset, (int)Math.Min(count, _left));
            _left -= n;
            return n;
        }
        protected override void Dispose(bool disposing) { if (disposing) _inner.Dispose(); base.Dispose(disposing); }
    }

    internal static class LocalFiles
    {
        /// <summary>
        /// False when <paramref name="to"/> exists. .NET's File.Move on Unix checks and then rename(2)s, which
        /// replaces a file created in between; link(2) fails atomically with EEXIST instead. Windows' MoveFile
        /// never replaces. A file system without hard links falls back to File.Move.
        /// </summary>
        public static bool MoveNoReplace(string from, string to)
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
            {
                int rc, errno;
                try
                {
                    rc = link(from, to);
                    errno = rc == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastWin32Error();
                }
                catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException) { rc = -1; errno = -1; }
                if (rc == 0) { File.Delete(from); return true; }
                if (errno == EEXIST) return false;
            }
            if (File.Exists(to)) return false;
            try { File.Move(from, to); }
            catch (IOException) when (File.Exists(to) && File.Exists(from)) { return false; }
            return true;
        }

        private const int EEXIST = 17; // Linux and macOS alike

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        private static extern int link(string oldpath, string newpath);
    }
}
