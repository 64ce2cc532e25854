using System;
using System.IO;
using System.IO.Compression;
using System.Text;
using ICSharpCode.SharpZipLib.Tar;
using Newtonsoft.Json;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Reads a backup archive as a stream: manifest first (all that listing needs), then each payload
    /// entry in order. Every entry name is checked before a caller sees it; any damage in the gzip or
    /// tar framing becomes ArchiveCorrupt, never a raw library exception.
    /// </summary>
    public sealed class BackupArchiveReader : IDisposable
    {
        private readonly FileStream _file;
        private readonly GZipStream _gzip;
        private readonly CountingStream _counted;
        private readonly TarInputStream _tar;

        private BackupArchiveReader(string path)
        {
            Path = path;
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            _gzip = new GZipStream(_file, CompressionMode.Decompress, leaveOpen: true);
            _counted = new CountingStream(_gzip);
            _tar = new TarInputStream(_counted, Encoding.UTF8) { IsStreamOwner = false };
        }

        public string Path { get; }
        public BackupManifest Manifest { get; private set; }

        public static BackupArchiveReader Open(string path)
        {
            string full = System.IO.Path.GetFullPath(path);
            if (!File.Exists(full))
                throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup archive at '{full}'.", full);
            var reader = new BackupArchiveReader(full);
            try
            {
                reader.Manifest = reader.ReadManifestEntry();
                return reader;
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        /// <summary>Reads only the manifest: cheap, for listing.</summary>
        public static ClusterBackup ReadBackup(string path)
        {
            using (var r = Open(path)) return new ClusterBackup(r.Path, r.Manifest, new FileInfo(r.Path).Length);
        }

        private BackupManifest ReadManifestEntry()
        {
            TarEntry first = Guard(() => _tar.GetNextEntry());
            if (first == null || first.Name != BackupManifest.EntryName)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                    $"'{Path}' is not a ClusterDR backup: its first entry is {(first == null ? "missing" : "'" + first.Name + "'")}, not manifest.json.", Path);
            if (first.Size > 16 * 1024 * 1024)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData, $"The manifest of '{Path}' is implausibly large ({first.Size} bytes).", Path);
            var bytes = Guard(() =>
            {
                using (var ms = new MemoryStream())
                {
                    _tar.CopyEntryContents(ms);
                    return ms.ToArray();
                }
            });
            BackupManifest m;
            try { m = JsonConvert.DeserializeObject<BackupManifest>(Encoding.UTF8.GetString(bytes)); }
            catch (JsonException ex)
            {
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData, $"The manifest of '{Path}' is not valid JSON: {ex.Message}", Path, ex);
            }
            if (m == null || string.IsNullOrEmpty(m.Kind) || m.Files == null)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData, $"The manifest of '{Path}' lacks its kind or file list.", Path);
            if (m.FormatVersion < 1 || m.FormatVersion > BackupManifest.CurrentFormatVersion)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                    $"'{Path}' has archive format version {m.FormatVersion}; this ClusterDR reads versions 1 to {BackupManifest.CurrentFormatVersion}.", Path);
            foreach (var f in m.Files) f.Path = ArchivePaths.Normalize(f.Path);
            return m;
        }

        /// <summary>
        /// Visits every payload entry after the manifest. <paramref name="visit"/> gets the checked name,
        /// the tar entry and a stream of its content (regular files only; empty for others).
        /// </summary>
        public void ForEachEntry(Action<string, TarEntry, Stream> visit)
        {
            while (true)
            {
                TarEntry e = Guard(() => _tar.GetNextEntry());
                if (e == null) break;
                string name = ArchivePaths.Normalize(e.Name);
                byte type = e.TarHeader.TypeFlag;
                if (type == TarHeader.LF_SYMLINK || type == TarHeader.LF_LINK)
                    ArchivePaths.CheckLinkTarget(System.IO.Path.GetTempPath(), name, e.TarHeader.LinkName);
                else if (type != TarHeader.LF_NORMAL && type != TarHeader.LF_OLDNORM && type != TarHeader.LF_DIR)
                    throw ArchivePaths.Unsafe(name, $"entries of tar type '{(char)type}' (devices, FIFOs) are not allowed");
                var content = new EntryStream(_tar, e.IsDirectory ? 0 : e.Size, Path);
                visit(name, e, content);
                content.Drain();
            }
        }

        /// <summary>
        /// The BCL's gzip reader stops quietly at a cut-off file, so prove the end: decompress to the
        /// end and compare the byte count with the gzip trailer's ISIZE (length mod 2^32).
        /// </summary>
        public void EnsureComplete()
        {
            Guard(() =>
            {
                var buf = new byte[1 << 16];
                while (_counted.Read(buf, 0, buf.Length) > 0) { }
                return 0;
            });
            var trailer = new byte[4];
            using (var f = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                if (f.Length < 18) throw Truncated();
                f.Seek(-4, SeekOrigin.End);
                if (f.Read(trailer, 0, 4) != 4) throw Truncated();
            }
            uint isize = BitConverter.ToUInt32(trailer, 0);
            if (!BitConverter.IsLittleEndian) isize = (isize >> 24) | ((isize >> 8) & 0xff00) | ((isize << 8) & 0xff0000) | (isize << 24);
            if (isize != (uint)(_counted.Count & 0xffffffff)) throw Truncated();
        }

        private ClusterDrException Truncated() =>
            new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{Path}' is truncated or damaged: its gzip stream does not end where its trailer says.", Path);

        internal T Guard<T>(Func<T> read) => Corrupt(Path, read);

        internal static T Corrupt<T>(string path, Func<T> read)
        {
            try { return read(); }
            catch (ClusterDrException) { throw; }
            catch (Exception ex) when (ex is IOException || ex is InvalidDataException || ex is TarException || ex is ICSharpCode.SharpZipLib.SharpZipBaseException || ex is ArgumentException || ex is FormatException || ex is OverflowException || ex is IndexOutOfRangeException || ex is NullReferenceException)
            {
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData,
                    $"'{path}' is damaged or truncated and cannot be read as a .tar.gz backup: {ex.Message}", path, ex);
            }
        }

        public void Dispose()
        {
            _tar?.Dispose();
            _gzip?.Dispose();
            _file?.Dispose();
        }

        /// <summary>Counts decompressed bytes.</summary>
        private sealed class CountingStream : ReadOnlyStream
        {
            private readonly Stream _inner;
            public CountingStream(Stream inner) { _inner = inner; }
            public long Count { get; private set; }
            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = _inner.Read(buffer, offset, count);
                Count += n;
                return n;
            }
            public override long Position { get => Count; set => throw new NotSupportedException(); }
        }

        /// <summary>One entry's content, read through the tar stream; a short read means a truncated archive.</summary>
        private sealed class EntryStream : ReadOnlyStream
        {
            private readonly TarInputStream _tar;
            private readonly string _path;
            private long _remaining;

            public EntryStream(TarInputStream tar, long size, string path) { _tar = tar; _remaining = size; _path = path; }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (_remaining <= 0) return 0;
                int n = Corrupt(_path, () => _tar.Read(buffer, offset, (int)Math.Min(count, _remaining)));
                if (n <= 0)
                    throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{_path}' ends in the middle of an entry: the archive is truncated.", _path);
                _remaining -= n;
                return n;
            }

            public void Drain()
            {
                var buf = new byte[65536];
                while (Read(buf, 0, buf.Length) > 0) { }
            }

        }
    }
}

namespace ClusterDR.Backups
{
    public static class BackupArchiveReaderExtensions
    {
        /// <summary>
        /// Streams one payload file to <paramref name="consume"/> and proves afterwards that what was
        /// read matches the manifest (the archive could have changed since it was verified).
        /// </summary>
        public static void ReadPayload(string archivePath, string payloadName, System.Action<System.IO.Stream> consume)
        {
            using (var reader = BackupArchiveReader.Open(archivePath))
            {
                var file = reader.Manifest.Files.Find(f => f.Path == payloadName);
                if (file == null)
                    throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData, $"'{archivePath}' has no {payloadName} in its manifest.", archivePath);
                bool found = false;
                reader.ForEachEntry((name, entry, content) =>
                {
                    if (name != payloadName || found) return;
                    found = true;
                    using (var hashing = new ReadHashingStream(content))
                    {
                        consume(hashing);
                        hashing.EnsureUnchanged(file, payloadName, archivePath);
                    }
                });
                if (!found)
                    throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData, $"'{archivePath}' lacks {payloadName}.", archivePath);
            }
        }
    }
}
