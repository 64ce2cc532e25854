using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using ClusterDR.Safety;
using ICSharpCode.SharpZipLib.Tar;
using Newtonsoft.Json;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Writes one backup archive into "name.tar.zst.&lt;random&gt;.partial" (or .tar.gz: the name's extension picks the
    /// <see cref="ArchiveCodec"/>), flushed to disk, made 0600 and renamed
    /// (never over an existing file), manifest.json first. Payloads whose size is known up front stream straight into the archive, with
    /// the manifest's space kept at the front and filled in at the end (<see cref="IPatchableArchive"/>);
    /// others are staged in a private folder beside the destination (hashing as they arrive; memory
    /// stays flat) and copied in at the commit. A crash or failure leaves no file that looks like a
    /// finished backup. Every temporary file and the staging folder carry this writer's own random token and
    /// are created exclusively, so two runs of the same backup name never touch each other's files.
    /// </summary>
    public sealed partial class BackupArchiveWriter : IDisposable
    {
        private readonly string _stagingDir;
        private readonly string _secondPath; // the large-manifest rewrite's second file
        private readonly List<ManifestFile> _files = new List<ManifestFile>();
        private readonly List<KeyValuePair<string, int>> _dirs = new List<KeyValuePair<string, int>>();
        private readonly Dictionary<string, int> _modes = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly HashSet<string> _streamed = new HashSet<string>(StringComparer.Ordinal);
        private readonly System.Threading.SemaphoreSlim _oneStream = new System.Threading.SemaphoreSlim(1, 1);
        private Stream _direct;
        private readonly Stores.RemoteStore _remote; // null: a local file
        private Stores.IStoreUpload _upload;
        private ClusterDR.Encryption.AgeArchive _age;
        private Stream _raw; // the file or upload under an encrypting stream
        private IPatchableArchive _directArchive;
        private readonly ArchiveCodec _codec;
        private TarOutputStream _directTar;
        private int _reserve;
        private int _earlyDirs; // directory entries already in the single-pass archive
        private bool _committed;
        private bool _broken;

        private BackupArchiveWriter(string finalPath, Stores.RemoteStore remote = null)
        {
            FinalPath = finalPath;
            _remote = remote;
            Location = new Stores.BackupLocation(remote, finalPath);
            _codec = CodecFor(finalPath);
            // Two runs started in the same second share a name: the token keeps their temporary files apart.
            // None of these names ends in .tar.zst or .tar.gz, so a listing never sees them.
            string token = Guid.NewGuid().ToString("N").Substring(0, 12);
            PartialPath = finalPath + "." + token + ".partial";
            _secondPath = finalPath + "." + token + ".2.partial";
            // A remote store's payloads of unknown length are staged in the temp directory (they are small: the index and
            // the payloads that declare a length stream straight into the upload).
            _stagingDir = remote == null
                ? Path.Combine(Path.GetDirectoryName(finalPath), "." + Path.GetFileName(finalPath) + "." + token + ".staging")
                : Path.Combine(Path.GetTempPath(), ".clusterdr-" + remote.NameOf(finalPath) + "." + token + ".staging");
            if (remote != null) ManifestReserve = remote.ManifestReserve;
        }

        /// <summary>The archive's final path, or for a remote store its key.</summary>
        public string FinalPath { get; }
        public Stores.BackupLocation Location { get; }
        public string PartialPath { get; }

        /// <summary>
        /// The archive's compression level (zstd 1 or gzip's fastest by default). NoCompression still writes a standard
        /// archive: raw zstd blocks or stored deflate blocks.
        /// </summary>
        public CompressionLevel CompressionLevel { get; set; } = CompressionLevel.Fastest;

        public ArchiveFormat Format => _codec.Format;

        /// <summary>
        /// Encrypts the archive (age) to recipients or a passphrase; the name then ends in .age. Set before the first
        /// payload. A manifest that outgrows its space cannot be rewritten inside an encrypted file, so the space kept
        /// is a remote upload's.
        /// </summary>
        public ClusterDR.Encryption.AgeEncryption Encryption
        {
            get => _age?.Encryption;
            set
            {
                if (value != null && !FinalPath.EndsWith(ClusterDR.Encryption.AgeArchive.Ext, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidOperationException("An encrypted archive's name ends in .age.");
                _age = value == null ? null : new ClusterDR.Encryption.AgeArchive(value);
                if (value != null) ManifestReserve = Math.Max(ManifestReserve, Stores.RemoteStore.DefaultManifestReserve);
            }
        }

        private static ArchiveCodec CodecFor(string path)
        {
            if (path.EndsWith(ClusterDR.Encryption.AgeArchive.Ext, StringComparison.OrdinalIgnoreCase)) path = path.Substring(0, path.Length - ClusterDR.Encryption.AgeArchive.Ext.Length);
            foreach (var c in new[] { ArchiveCodec.Zstd, ArchiveCodec.Gzip })
                if (path.EndsWith(c.Extension, StringComparison.OrdinalIgnoreCase)) return c;
            throw new ArgumentException($"A backup archive's name ends in {ZstdCodec.Ext} or {GzipCodec.Ext}: '{path}'.", nameof(path));
        }

        /// <summary>
        /// Bytes kept for manifest.json at the front of a single-pass archive (see <see cref="AddStreamedPayload"/>);
        /// a larger manifest costs one extra pass over the archive, never a failure.
        /// </summary>
        public int ManifestReserve { get; set; } = 64 * 1024;

        /// <summary>
        /// Prepares a backup named <paramref name="fileName"/> in <paramref name="folder"/> of <paramref name="store"/>
        /// (null or a local store: a directory, created when missing; a remote store: a key prefix under its own).
        /// </summary>
        public static BackupArchiveWriter Create(Stores.BackupStore store, string folder, string fileName)
        {
            if (!(store is Stores.RemoteStore remote))
                return Create(store == null ? folder : Path.GetDirectoryName(store.Combine(folder, fileName)), fileName);
            string key = remote.Combine(folder, fileName);
            if (remote.Stat(key, default) != null)
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists, $"A backup named '{remote.Describe(key)}' already exists; it is never overwritten.", remote.Describe(key), surfaceAsIs: true);
            var writer = new BackupArchiveWriter(key, remote);
            Directory.CreateDirectory(writer._stagingDir);
            FileModes.TrySetOwnerOnly(writer._stagingDir, directory: true);
            return writer;
        }

        /// <summary>Prepares a backup named <paramref name="fileName"/> in <paramref name="directory"/> (created when missing).</summary>
        public static BackupArchiveWriter Create(string directory, string fileName)
        {
            string dir = Path.GetFullPath(directory);
            if (File.Exists(dir))
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.InvalidArgument, $"The backup destination '{dir}' is a file; give a directory.", dir);
            Directory.CreateDirectory(dir);
            var writer = new BackupArchiveWriter(Path.Combine(dir, fileName));
            if (File.Exists(writer.FinalPath))
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists, $"A backup named '{writer.FinalPath}' already exists; it is never overwritten.", writer.FinalPath, surfaceAsIs: true);
            // Never reuse (let alone delete) a folder that is there already: it belongs to someone else.
            if (Directory.Exists(writer._stagingDir))
                throw new IOException($"The staging folder '{writer._stagingDir}' exists already.");
            Directory.CreateDirectory(writer._stagingDir);
            FileModes.TrySetOwnerOnly(writer._stagingDir, directory: true);
            return writer;
        }

        /// <summary>A standard file name: kind-cluster-label-yyyyMMddTHHmmssZ.tar.zst (or .tar.gz), safe on every file system.</summary>
        public static string DefaultFileName(string kind, string cluster, string label, DateTime createdUtc, ArchiveFormat format = ArchiveFormat.Zstd)
        {
            var parts = new List<string> { kind };
            if (!string.IsNullOrEmpty(cluster)) parts.Add(cluster);
            if (!string.IsNullOrEmpty(label)) parts.Add(label);
            parts.Add(UtcStamp.Of(createdUtc));
            var sb = new StringBuilder();
            foreach (char c in string.Join("-", parts)) sb.Append(char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.' ? c : '_');
            return sb + ArchiveCodec.For(format).Extension;
        }

        /// <summary>
        /// A directory entry of a payload tree (written before the files, with its Unix mode), so that a
        /// tree such as the swarm state dir comes back with its empty directories and permissions.
        /// </summary>
        public void AddDirectory(string archivePath, int mode)
        {
            _dirs.Add(new KeyValuePair<string, int>(ArchivePaths.Normalize(archivePath), mode & Convert.ToInt32("7777", 8)));
        }

        /// <summary>Streams one payload file into staging through <paramref name="write"/>; records its size and SHA-256.</summary>
        /// <param name="mode">The Unix mode its tar entry carries (default 0600).</param>
        public ManifestFile AddPayload(string archivePath, Action<Stream> write, int? mode = null) =>
            // Payloads may be staged from several threads at once (parallel S3 downloads); only the lists are shared.
            AddStreamedPayload(archivePath, sink => write(sink), mode);

        /// <summary>
        /// Streams one payload file straight into the archive when its producer knows the size before the
        /// first byte (it calls <see cref="PayloadSink.DeclareLength"/>): one pass, no staging copy, so a
        /// backup costs one write of the data. A producer that writes without declaring is staged like
        /// <see cref="AddPayload"/>. Streamed payloads go one at a time, in call order.
        /// </summary>
        public ManifestFile AddStreamedPayload(string archivePath, Action<PayloadSink> write, int? mode = null)
        {
            string rel = ArchivePaths.Normalize(archivePath);
            if (rel == BackupManifest.EntryName) throw new ArgumentException("manifest.json is reserved.", nameof(archivePath));
            int entryMode = (mode ?? Convert.ToInt32("600", 8)) & Convert.ToInt32("7777", 8);
            ManifestFile entry;
            using (var sink = new PayloadSink(this, rel, entryMode))
            {
                try
                {
                    write(sink);
                    entry = sink.Finish();
                }
                catch
                {
                    sink.Abort();
                    throw;
                }
            }
            if (!Indexed(rel))
                lock (_files)
                {
                    _files.Add(entry);
                    _modes[rel] = entryMode;
                }
            return entry;
        }

        /// <summary>Writes manifest + payload to .partial, flushes, renames. Returns the finished backup.</summary>
        public ClusterBackup Commit(BackupManifest manifest, IOperationContext ctx)
        {
            if (_broken) throw new InvalidOperationException("A streamed payload failed part-way; this archive cannot be finished.");
            _index?.Finish(this, manifest);
            _age?.Describe(manifest);
            manifest.Files = new List<ManifestFile>(_files);
            if (string.IsNullOrEmpty(manifest.ToolVersion)) manifest.ToolVersion = BackupManifest.ToolVersionString;
            long total = 0;
            foreach (var f in _files) if (!_streamed.Contains(f.Path)) total += f.Size;
            var progress = new ProgressReporter(ctx, "Writing backup archive " + Location.Name, total);
            var json = Encoding.UTF8.GetBytes(JsonConvert.SerializeObject(manifest, Formatting.Indented));
            if (_direct == null)
            {
                var file = OpenOutput(1 << 16);
                try
                {
                    using (var compressed = _codec.OpenWrite(file, CompressionLevel))
                    using (var tar = new TarOutputStream(new NoFlushStream(compressed), Encoding.UTF8) { IsStreamOwner = false })
                    {
                        PutEntry(tar, BackupManifest.EntryName, json.Length, manifest.CreatedUtc);
                        tar.Write(json, 0, json.Length);
                        tar.CloseEntry();
                        WriteDirsAndStaged(tar, manifest.CreatedUtc, progress, ctx);
                        tar.Finish();
                    }
                    EndOutput(file);
                }
                finally
                {
                    if (_remote == null) file.Dispose(); // an upload ends at its commit (or, abandoned, in Cleanup)
                }
            }
            else
            {
                WriteDirsAndStaged(_directTar, manifest.CreatedUtc, progress, ctx);
                _directTar.Finish();
                _directTar.Dispose();
                // A directory added after the first streamed payload must still come right after the manifest: rewrite.
                bool fits = json.Length <= _reserve && _dirs.Count == _earlyDirs;
                // An object store's upload (or an encrypted file) cannot be read back for the rewrite: say so, and abandon it.
                if (!fits && (_remote != null || _age != null))
                    throw new ClusterDrException(ErrorIds.BackupFailed, ErrorKind.InvalidOperation,
                        $"The manifest of '{Location.Display}' ({json.Length} bytes) outgrew the {_reserve} bytes a single-pass " + (_age != null ? "encrypted archive" : "upload") + " keeps for it; nothing was stored. " +
                        (_age != null ? "Back up without encryption to a local directory, then encrypt that file with age." : "Back up to a local directory and copy it with Copy-ClusterBackup."), Location.Display);
                _directArchive.Finish(ManifestHead(fits ? json : new byte[0], manifest.CreatedUtc));
                EndOutput(_direct);
                if (_remote == null) _direct.Dispose();
                _direct = null;
                // A manifest larger than the space kept for it (or late directories): one more pass puts it first after all.
                if (!fits) RewriteWithManifest(json, manifest.CreatedUtc, ctx);
            }
            long length = _remote == null ? 0 : _upload.Stream.Length;
            if (_remote == null) Publish(); else _upload.Commit(Safety.CancellationScope.Effective(ctx.Cancellation));
            _committed = true;
            progress.Complete();
            Cleanup();
            return new ClusterBackup(Location, manifest, _remote == null ? new FileInfo(FinalPath).Length : length) { Encrypted = _age != null };
        }

        /// <summary>
        /// Gives the finished .partial its final name, never over a file that is there. Losing that race means
        /// another run of the same backup finished first: its archive stays, this one's temporary files go.
        /// </summary>
        private void Publish()
        {
            if (!Stores.LocalFiles.MoveNoReplace(PartialPath, FinalPath))
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists,
                    $"Another backup named '{FinalPath}' finished first, while this one was being written; that backup is kept as it is and this run's copy was discarded, so nothing was lost.",
                    FinalPath, surfaceAsIs: true);
        }

        private void WriteDirsAndStaged(TarOutputStream tar, DateTime created, ProgressReporter progress, IOperationContext ctx)
        {
            if (_direct == null) WriteDirs(tar, created); // a single-pass archive wrote them at its first streamed payload
            long done = 0;
            var buffer = new byte[1 << 16];
            foreach (var f in _files)
            {
                if (_streamed.Contains(f.Path)) continue;
                Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                string staged = Path.Combine(_stagingDir, f.Path.Replace('/', Path.DirectorySeparatorChar));
                PutEntry(tar, f.Path, f.Size, created, _modes.TryGetValue(f.Path, out var m) ? m : Convert.ToInt32("600", 8));
                using (var src = new FileStream(staged, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
                {
                    int n;
                    while ((n = src.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        tar.Write(buffer, 0, n);
                        done += n;
                        progress.Report(done);
                    }
                }
                tar.CloseEntry();
            }
        }

        private void WriteDirs(TarOutputStream tar, DateTime created)
        {
            foreach (var d in _dirs)
            {
                var dir = TarEntry.CreateTarEntry(d.Key + "/");
                dir.ModTime = created == default ? DateTime.UtcNow : created;
                dir.TarHeader.Mode = d.Value;
                dir.TarHeader.TypeFlag = TarHeader.LF_DIR;
                dir.Size = 0;
                tar.PutNextEntry(dir);
                tar.CloseEntry();
            }
        }

        /// <summary>manifest.json's tar header and content, padded with spaces (still valid JSON) to the reserved size.</summary>
        private byte[] ManifestHead(byte[] json, DateTime created)
        {
            var head = new byte[512 + _reserve];
            var entry = TarEntry.CreateTarEntry(BackupManifest.EntryName);
            entry.Size = _reserve;
            entry.ModTime = created == default ? DateTime.UtcNow : created;
            entry.TarHeader.Mode = Convert.ToInt32("600", 8);
            entry.TarHeader.TypeFlag = TarHeader.LF_NORMAL;
            entry.WriteEntryHeader(head, Encoding.UTF8);
            Buffer.BlockCopy(json, 0, head, 512, json.Length);
            for (int i = 512 + json.Length; i < head.Length; i++) head[i] = (byte)' ';
            return head;
        }

        /// <summary>Copies every entry after the placeholder manifest into a new archive that starts with the real one.</summary>
        private void RewriteWithManifest(byte[] json, DateTime created, IOperationContext ctx)
        {
            string second = _secondPath;
            using (var src = new FileStream(PartialPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            using (var decompressed = _codec.OpenRead(src))
            using (var tarIn = new TarInputStream(decompressed, Encoding.UTF8))
            using (var file = new FileStream(second, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                FileModes.TrySetOwnerOnly(second);
                using (var compressed = _codec.OpenWrite(file, CompressionLevel))
                using (var tar = new TarOutputStream(new NoFlushStream(compressed), Encoding.UTF8) { IsStreamOwner = false })
                {
                    PutEntry(tar, BackupManifest.EntryName, json.Length, created);
                    tar.Write(json, 0, json.Length);
                    tar.CloseEntry();
                    WriteDirs(tar, created); // all of them, early and late, right after the manifest
                    tarIn.GetNextEntry(); // the placeholder
                    TarEntry e;
                    while ((e = tarIn.GetNextEntry()) != null)
                    {
                        Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                        if (e.IsDirectory) continue;
                        tar.PutNextEntry(e);
                        tarIn.CopyEntryContents(tar);
                        tar.CloseEntry();
                    }
                    tar.Finish();
                }
                file.Flush(true);
            }
            File.Delete(PartialPath);
            File.Move(second, PartialPath);
        }

        /// <summary>Puts a streamed entry's tar header (one streamed entry at a time) and returns where its bytes go.</summary>
        internal Stream BeginStreamedEntry(string path, long size, int mode)
        {
            _oneStream.Wait();
            try
            {
                if (_broken) throw new InvalidOperationException("A streamed payload failed part-way; this archive cannot take more.");
                lock (_files)
                {
                    if (!Indexed(path) && !_streamed.Add(path)) throw new ArgumentException($"'{path}' is already in this archive.", nameof(path));
                }
                PutEntry(DirectTar(), path, size, DateTime.UtcNow, mode);
                return _directTar;
            }
            catch
            {
                _oneStream.Release();
                throw;
            }
        }

        internal void EndStreamedEntry(string path, bool failed, ManifestFile entry = null)
        {
            try
            {
                if (failed) _broken = true;
                else
                {
                    _directTar.CloseEntry();
                    if (Indexed(path)) RecordIndexed(entry);
                }
            }
            finally { _oneStream.Release(); }
        }

        /// <summary>A new private staging file for a payload path.</summary>
        internal FileStream CreateStagingFile(string rel)
        {
            if (Indexed(rel)) throw new InvalidOperationException($"'{rel}' goes into the payload index: it must declare its length and stream.");
            string staged = Path.Combine(_stagingDir, rel.Replace('/', Path.DirectorySeparatorChar));
            lock (_files) Directory.CreateDirectory(Path.GetDirectoryName(staged));
            var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            FileModes.TrySetOwnerOnly(staged);
            return file;
        }

        /// <summary>Opens the single-pass archive at the first streamed payload: the manifest's space is kept at the front.</summary>
        private TarOutputStream DirectTar()
        {
            if (_direct != null) return _directTar;
            _reserve = (Math.Max(ManifestReserve, 512) + 511) / 512 * 512;
            _direct = OpenOutput(1 << 18, 512 + _reserve + (64 << 10));
            _directArchive = _codec.OpenPatchable(_direct, 512 + _reserve, CompressionLevel);
            _directTar = new TarOutputStream(new NoFlushStream(_directArchive.Tail), Encoding.UTF8) { IsStreamOwner = false };
            // Directory entries sit right after the manifest, where a listing counts them (BackupArchiveReader.EnsurePlausibleLength).
            WriteDirs(_directTar, DateTime.UtcNow);
            _earlyDirs = _dirs.Count;
            return _directTar;
        }

        /// <summary>The .partial file (0600), or the store's upload; either shows nothing until the commit.</summary>
        private Stream OpenOutput(int buffer, int hold = 0)
        {
            Stream raw;
            if (_remote != null)
            {
                _upload = _remote.BeginUpload(FinalPath, default);
                raw = _upload.Stream;
            }
            else
            {
                raw = new FileStream(PartialPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, buffer);
                FileModes.TrySetOwnerOnly(PartialPath);
            }
            _raw = raw;
            return _age == null ? raw : _age.Encrypt(raw, hold);
        }

        /// <summary>Ends the output: an encrypted one seals its last chunk and writes its head; a file is flushed to disk.</summary>
        private void EndOutput(Stream output)
        {
            _age?.Finish(output);
            (_raw as FileStream)?.Flush(true);
        }

        private static void PutEntry(TarOutputStream tar, string name, long size, DateTime modTime, int mode = 384 /* 0600 */)
        {
            var entry = TarEntry.CreateTarEntry(name);
            entry.Size = size;
            entry.ModTime = modTime == default ? DateTime.UtcNow : modTime;
            entry.TarHeader.Mode = mode;
            entry.TarHeader.TypeFlag = TarHeader.LF_NORMAL;
            tar.PutNextEntry(entry);
        }

        private void Cleanup()
        {
            _index?.Dispose();
            try { _direct?.Dispose(); } catch { }
            _direct = null;
            // An upload not committed is abandoned: nothing of it is listed.
            try { _upload?.Dispose(); } catch { }
            _upload = null;
            try { if (File.Exists(_secondPath)) File.Delete(_secondPath); } catch { }
            try { if (Directory.Exists(_stagingDir)) Directory.Delete(_stagingDir, true); } catch { }
            if (!_committed) { try { if (File.Exists(PartialPath)) File.Delete(PartialPath); } catch { } }
        }

        public void Dispose() => Cleanup();
    }
}
