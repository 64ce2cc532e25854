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
    /// entry in order, whatever its compression (<see cref="ArchiveCodec"/>: .tar.zst or .tar.gz). Every entry name
    /// is checked before a caller sees it; any damage in the compressed stream or the tar framing becomes
    /// ArchiveCorrupt, never a raw library exception.
    /// </summary>
    public sealed class BackupArchiveReader : IDisposable
    {
        private readonly Stream _file;
        private readonly ArchiveFile _archive;
        private readonly ArchiveCodec _codec;
        private readonly Stream _decompressed;
        private readonly CountingStream _counted;
        private readonly TarTypeWatch _types;
        private readonly TarInputStream _tar;

        private BackupArchiveReader(ArchiveFile archive, ArchiveCodec codec, bool listing, Func<Stream, Stream> tap)
        {
            _archive = archive;
            Location = archive.Location;
            Path = archive.Display;
            _codec = codec;
            // A listing of a remote store reads the manifest in growing ranges; everything else streams the object once.
            _file = listing && !Location.IsLocal && !archive.Encrypted
                ? new Stores.ChunkedReadStream(Location.Store, Location.Key, archive.Length, Location.Store.ManifestReserve + (256 << 10), default)
                : Location.OpenRead();
            if (tap != null) _file = tap(_file);
            // An encrypted archive is decrypted as it streams, each 64 KiB authenticated before it is decompressed.
            if (archive.Encrypted) _file = archive.Age.OpenPlain(_file);
            _decompressed = Guard(() => codec.OpenRead(_file));
            // A full read decompresses a thread ahead of the hashing; a listing reads only the head, so nothing ahead.
            if (!listing) _decompressed = new ReadAheadStream(_decompressed);
            _counted = new CountingStream(_decompressed);
            _types = new TarTypeWatch(_counted);
            _tar = new TarInputStream(_types, Encoding.UTF8) { IsStreamOwner = false };
        }

        /// <summary>The archive's path, or its store URI.</summary>
        public string Path { get; }
        public Stores.BackupLocation Location { get; }
        /// <summary>The file's length (an encrypted one's, not its plaintext's).</summary>
        public long Length => _archive.FileLength;
        /// <summary>Whether the archive is age-encrypted (and was opened with its key).</summary>
        public bool Encrypted => _archive.Encrypted;
        public BackupManifest Manifest { get; private set; }

        public static BackupArchiveReader Open(Stores.BackupLocation location) => Open(location, listing: false);

        /// <summary>An archive read through <paramref name="tap"/> (a stream over the raw file that the tap owns).</summary>
        internal static BackupArchiveReader Open(Stores.BackupLocation location, Func<Stream, Stream> tap) => Open(location, false, tap);

        private static BackupArchiveReader Open(Stores.BackupLocation location, bool listing, Func<Stream, Stream> tap = null) =>
            Open(Guard(location, ArchiveFile.Probe), listing, tap);

        /// <summary>Opens an archive already probed (a listing probes once to tell an encrypted one apart).</summary>
        private static BackupArchiveReader Open(ArchiveFile archive, bool listing, Func<Stream, Stream> tap = null)
        {
            var location = archive.Location;
            string full = location.Display;
            archive.Unlock();
            // Said first and plainly: a decompressor would call any other file "an unsupported compression method".
            var codec = ArchiveCodec.Detect(archive.Head)
                ?? throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData, $"'{full}' is neither a zstd nor a gzip file, so not a ClusterDR backup.", full);
            var reader = Guard(location, l => new BackupArchiveReader(archive, codec, listing, tap));
            try
            {
                reader.Manifest = reader.ReadManifestEntry();
                EnsureClearMetadataAgrees(archive, reader.Manifest);
                return reader;
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The clear metadata an encrypted backup lists by (and retention decides by) must say what its manifest says.
        /// The header's MAC already proves it unaltered; this proves the writer and the reader agree.
        /// </summary>
        private static void EnsureClearMetadataAgrees(ArchiveFile archive, BackupManifest m)
        {
            var c = archive.Age?.Clear;
            if (c == null) return;
            if (c.Kind != m.Kind || c.Cluster != m.Cluster || c.Label != m.Label || c.CreatedUtc.ToUniversalTime() != m.CreatedUtc.ToUniversalTime() || c.Length != archive.Length)
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData,
                    $"'{archive.Display}' carries clear metadata that disagrees with its encrypted manifest, so it lists as something it is not. Nothing of it is used.", archive.Display);
        }

        /// <summary>Reads only the manifest: cheap, for listing.</summary>
        public static ClusterBackup ReadBackup(Stores.BackupLocation location)
        {
            var archive = Guard(location, ArchiveFile.Probe);
            if (archive.Encrypted) return EncryptedListing.Read(archive);
            using (var r = Open(archive, listing: true)) return r.Listed();
        }

        private ClusterBackup Listed() => new ClusterBackup(Location, Manifest, Length) { Encrypted = Encrypted };

        /// <summary>A missing local file was always BackupNotFound; an unreadable one (or a store's raw IO failure) says so in operator terms.</summary>
        private static T Guard<T>(Stores.BackupLocation location, Func<Stores.BackupLocation, T> open)
        {
            try { return open(location); }
            catch (FileNotFoundException ex) { throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup archive at '{location.Display}'.", location.Display, ex); }
            catch (DirectoryNotFoundException ex) { throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup archive at '{location.Display}'.", location.Display, ex); }
        }

        /// <summary>
        /// Reads the manifest for a listing and proves, without reading any payload, that the file is as long
        /// as the manifest implies: a copy cut short after its manifest is no backup (<see cref="EnsurePlausibleLength"/>).
        /// </summary>
        public static ClusterBackup ReadListed(Stores.BackupLocation location)
        {
            // An encrypted archive lists from its clear metadata: no key is needed, and none is used.
            var archive = Guard(location, ArchiveFile.Probe);
            if (archive.Encrypted) return EncryptedListing.Read(archive);
            using (var r = Open(archive, listing: true))
            {
                r.EnsurePlausibleLength();
                return r.Listed();
            }
        }

        /// <summary>
        /// Compares the tar length the trailer records (zstd: ClusterDR's trailer frame, exact; gzip: ISIZE, the length
        /// mod 2^32) with the tar length the manifest implies. A cut-off .tar.gz's last 8 bytes are not a trailer, so they
        /// pass with odds of about 2^-19 (a .tar.zst's 24 bytes carry a marker: practically never). What the manifest
        /// does not say, the writer makes small and bounded: directory entries come right after the manifest
        /// (read here, headers only), and SharpZipLib pads the tar to its 10240-byte records (a multiple of 512, less than
        /// two records). So the tar is Lo + d with d a multiple of 512 up to 2 × <see cref="RecordSize"/> (plus
        /// the extra blocks a long non-ASCII name may take), which holds modulo 2^32 for archives over 4 GiB too.
        /// Deflate also never shrinks data more than 1032:1, which bounds a .tar.gz's own length from below.
        /// </summary>
        private void EnsurePlausibleLength()
        {
            // SharpZipLib's end of archive is not GNU tar's: after the two end blocks it may write up to a whole extra
            // record (AWholeArchiveListsWhereverItsTarEndsInARecord tries every residue), so allow two records.
            long lo = (512 + Round(_manifestSize)) + EndBlocks, slack = 2 * RecordSize;
            foreach (var f in Manifest.Files) { lo += Header(f.Path, ref slack) + Round(f.Size); }
            if (Manifest.Index != null) { lo += Manifest.Index.TarBytes; slack += Manifest.Index.TarSlack; }
            TarEntry e;
            while ((e = NextEntry()) != null && e.IsDirectory) lo += Header(e.TarHeader.Name, ref slack);
            var trailer = _codec.ReadTarLength(_archive);
            long length = _archive.Length;
            long d = trailer == null ? -1 : Distance(trailer.Value.Length, lo, trailer.Value.Modulus);
            if (trailer == null && !_codec.RequiresTrailer(_archive))
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData,
                    $"'{Path}' lacks the end-of-archive record ClusterDR writes, so a listing cannot tell it whole without reading it all: it was recompressed by another tool, or cut short. Test-ClusterBackup reads it through and says which.", Path);
            if (d < 0 || d > slack || d % 512 != 0 || (_codec.MaxRatio > 0 && length < lo / _codec.MaxRatio))
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData,
                    $"'{Path}' is shorter than its manifest says it must be: the file is truncated (or its end is damaged), so it is not a usable backup.", Path);
        }

        /// <summary>recorded − expected, in the trailer's modulus (0: exact).</summary>
        private static long Distance(long recorded, long expected, long modulus)
        {
            if (modulus == 0) return recorded - expected;
            long d = recorded - (expected % modulus);
            return d < 0 ? d + modulus : d;
        }

        private const long RecordSize = 10240; // SharpZipLib's TarOutputStream: 20 blocks of 512
        private const long EndBlocks = 1024;   // two zero blocks end a tar

        internal static long Round(long size) => (size + 511) / 512 * 512;

        /// <summary>A tar header as SharpZipLib writes it: a GNU long-name entry first when the name has over 100 bytes of UTF-8 (not characters).</summary>
        internal static long Header(string name, ref long slack)
        {
            if (Encoding.UTF8.GetByteCount(name) <= 100) return 512;
            // SharpZipLib counts characters; a name with multi-byte characters may take more blocks, never fewer.
            slack += Round(Encoding.UTF8.GetByteCount(name) + 1) - Round(name.Length + 1);
            return 512 + 512 + Round(name.Length + 1);
        }

        private long _manifestSize;

        private BackupManifest ReadManifestEntry()
        {
            TarEntry first = NextEntry();
            if (first == null || first.Name != BackupManifest.EntryName)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                    $"'{Path}' is not a ClusterDR backup: its first entry is {(first == null ? "missing" : "'" + first.Name + "'")}, not manifest.json.", Path);
            _manifestSize = first.Size;
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
            // SharpZipLib pads an entry cut short with zeros: a file whose data ends inside its manifest is truncated.
            if (_counted.Ended && _counted.Count < 512 + first.Size)
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{Path}' ends inside its manifest: the file is truncated.", Path);
            BackupManifest m;
            try { m = JsonConvert.DeserializeObject<BackupManifest>(Encoding.UTF8.GetString(bytes)); }
            catch (JsonException ex)
            {
                // The parser's line and position say nothing to an operator; it stays available as the inner exception.
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData, $"The manifest of '{Path}' is damaged: manifest.json is not valid JSON.", Path, ex);
            }
            if (m == null || string.IsNullOrEmpty(m.Kind) || m.Files == null)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData, $"The manifest of '{Path}' lacks its kind or file list.", Path);
            if (m.FormatVersion < 1 || m.FormatVersion > BackupManifest.CurrentFormatVersion)
                throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                    $"'{Path}' has archive format version {m.FormatVersion}; this ClusterDR reads versions 1 to {BackupManifest.CurrentFormatVersion}.", Path);
            foreach (var f in m.Files) f.Path = ArchivePaths.Normalize(f.Path);
            PayloadIndex.Validate(m, Path);
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
                TarEntry e = NextEntry();
                if (e == null) break;
                byte type = e.TarHeader.TypeFlag;
                // The type first: a device or FIFO is refused for what it is, whatever its name looks like.
                if (type != TarHeader.LF_NORMAL && type != TarHeader.LF_OLDNORM && type != TarHeader.LF_DIR && type != TarHeader.LF_SYMLINK && type != TarHeader.LF_LINK)
                    throw ArchivePaths.Unsafe(e.TarHeader.Name, $"it is {Describe(type)}; a backup holds only files, directories and links");
                string name = ArchivePaths.Normalize(e.Name);
                if (type == TarHeader.LF_SYMLINK || type == TarHeader.LF_LINK)
                    ArchivePaths.CheckLinkTarget(System.IO.Path.GetTempPath(), name, e.TarHeader.LinkName);
                var content = new EntryStream(_tar, e.IsDirectory ? 0 : e.Size, Location, _codec);
                visit(name, e, content);
                content.Drain();
            }
        }

        /// <summary>
        /// The BCL's gzip reader stops quietly at a cut-off file, so prove the end: decompress to the
        /// end and compare the byte count with the length the trailer records.
        /// </summary>
        public void EnsureComplete()
        {
            Guard(() =>
            {
                var buf = new byte[1 << 16];
                while (_counted.Read(buf, 0, buf.Length) > 0) { }
                return 0;
            });
            var trailer = _codec.ReadTarLength(_archive);
            if (trailer == null ? _codec.RequiresTrailer(_archive) : Distance(trailer.Value.Length, _counted.Count, trailer.Value.Modulus) != 0) throw Truncated();
        }

        /// <summary>The next tar entry, after proving SharpZipLib skipped none it does not understand.</summary>
        private TarEntry NextEntry()
        {
            TarEntry e = Guard(() => _tar.GetNextEntry());
            if (_types.Refused is var (name, type))
                throw ArchivePaths.Unsafe(name, $"it is {Describe(type)}; a backup holds only files, directories and links");
            return e;
        }

        private static string Describe(byte type)
        {
            switch (type)
            {
                case TarHeader.LF_CHR: return "a character device";
                case TarHeader.LF_BLK: return "a block device";
                case TarHeader.LF_FIFO: return "a FIFO";
                default: return $"an entry of tar type '{(char)type}'";
            }
        }

        private ClusterDrException Truncated() =>
            new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{Path}' is truncated or damaged: its compressed stream does not end where its trailer says.", Path);

        internal T Guard<T>(Func<T> read) => Corrupt(Location, _codec, read);

        internal static T Corrupt<T>(Stores.BackupLocation location, ArchiveCodec codec, Func<T> read)
        {
            string path = location.Display;
            try { return read(); }
            catch (ClusterDrException) { throw; }
            catch (Exception ex) when (codec.Diagnose(location, ex) is string why)
            {
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{path}' cannot be used: the file is damaged: {why}.", path, ex);
            }
            catch (IOException ex)
            {
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{path}' could not be read: {ex.Message}", path, ex);
            }
            catch (Exception ex) when (ex is TarException || ex is ICSharpCode.SharpZipLib.SharpZipBaseException || ex is ArgumentException || ex is FormatException || ex is OverflowException || ex is IndexOutOfRangeException || ex is NullReferenceException)
            {
                throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData,
                    $"'{path}' is damaged or truncated: its tar framing cannot be read as a backup archive.", path, ex);
            }
        }

        public void Dispose()
        {
            _tar?.Dispose();
            _decompressed?.Dispose();
            _file?.Dispose();
        }

        /// <summary>Counts decompressed bytes.</summary>
        private sealed class CountingStream : ReadOnlyStream
        {
            private readonly Stream _inner;
            public CountingStream(Stream inner) { _inner = inner; }
            public long Count { get; private set; }
            public bool Ended { get; private set; }
            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = _inner.Read(buffer, offset, count);
                Count += n;
                if (n == 0 && count > 0) Ended = true;
                return n;
            }
            public override long Position { get => Count; set => throw new NotSupportedException(); }
        }

        /// <summary>One entry's content, read through the tar stream; a short read means a truncated archive.</summary>
        private sealed class EntryStream : ReadOnlyStream
        {
            private readonly TarInputStream _tar;
            private readonly Stores.BackupLocation _location;
            private readonly ArchiveCodec _codec;
            private long _remaining;

            public EntryStream(TarInputStream tar, long size, Stores.BackupLocation location, ArchiveCodec codec) { _tar = tar; _remaining = size; _location = location; _codec = codec; }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (_remaining <= 0) return 0;
                int n = Corrupt(_location, _codec, () => _tar.Read(buffer, offset, (int)Math.Min(count, _remaining)));
                if (n <= 0)
                    throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{_location.Display}' ends in the middle of an entry: the archive is truncated.", _location.Display);
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
        public static void ReadPayload(Stores.BackupLocation archive, string payloadName, System.Action<System.IO.Stream> consume)
        {
            string archivePath = archive.Display;
            using (var reader = BackupArchiveReader.Open(archive))
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
