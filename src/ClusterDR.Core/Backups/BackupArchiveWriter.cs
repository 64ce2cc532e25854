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
    /// Writes one backup archive into "name.tar.gz.partial", flushed to disk, made 0600 and renamed,
    /// manifest.json first. Payloads whose size is known up front stream straight into the archive, with
    /// the manifest's space kept at the front and filled in at the end (<see cref="PatchableGzip"/>);
    /// others are staged in a private folder beside the destination (hashing as they arrive; memory
    /// stays flat) and copied in at the commit. A crash or failure leaves no file that looks like a
    /// finished backup.
    /// </summary>
    public sealed class BackupArchiveWriter : IDisposable
    {
        private readonly string _stagingDir;
        private readonly List<ManifestFile> _files = new List<ManifestFile>();
        private readonly List<KeyValuePair<string, int>> _dirs = new List<KeyValuePair<string, int>>();
        private readonly Dictionary<string, int> _modes = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly HashSet<string> _streamed = new HashSet<string>(StringComparer.Ordinal);
        private readonly System.Threading.SemaphoreSlim _oneStream = new System.Threading.SemaphoreSlim(1, 1);
        private FileStream _direct;
        private PatchableGzip _directGzip;
        private TarOutputStream _directTar;
        private int _reserve;
        private bool _committed;
        private bool _broken;

        private BackupArchiveWriter(string finalPath)
        {
            FinalPath = finalPath;
            PartialPath = finalPath + ".partial";
            _stagingDir = Path.Combine(Path.GetDirectoryName(finalPath), "." + Path.GetFileName(finalPath) + ".staging");
        }

        public string FinalPath { get; }
        public string PartialPath { get; }

        /// <summary>gzip level of the archive. NoCompression still writes a standard .tar.gz (stored blocks).</summary>
        public CompressionLevel CompressionLevel { get; set; } = CompressionLevel.Fastest;

        /// <summary>
        /// Bytes kept for manifest.json at the front of a single-pass archive (see <see cref="AddStreamedPayload"/>);
        /// a larger manifest costs one extra pass over the archive, never a failure.
        /// </summary>
        public int ManifestReserve { get; set; } = 64 * 1024;

        /// <summary>Prepares a backup named <paramref name="fileName"/> in <paramref name="directory"/> (created when missing).</summary>
        public static BackupArchiveWriter Create(string directory, string fileName)
        {
            string dir = Path.GetFullPath(directory);
            if (File.Exists(dir))
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.InvalidArgument, $"The backup destination '{dir}' is a file; give a directory.", dir);
            Directory.CreateDirectory(dir);
            var writer = new BackupArchiveWriter(Path.Combine(dir, fileName));
            if (File.Exists(writer.FinalPath))
                throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists, $"A backup named '{writer.FinalPath}' already exists; it is never overwritten.", writer.FinalPath);
            if (Directory.Exists(writer._stagingDir)) Directory.Delete(writer._stagingDir, true);
            Directory.CreateDirectory(writer._stagingDir);
            FileModes.TrySetOwnerOnly(writer._stagingDir, directory: true);
            return writer;
        }

        /// <summary>A standard file name: kind-cluster-label-yyyyMMddTHHmmssZ.tar.gz, safe on every file system.</summary>
        public static string DefaultFileName(string kind, string cluster, string label, DateTime createdUtc)
        {
            var parts = new List<string> { kind };
            if (!string.IsNullOrEmpty(cluster)) parts.Add(cluster);
            if (!string.IsNullOrEmpty(label)) parts.Add(label);
            parts.Add(UtcStamp.Of(createdUtc));
            var sb = new StringBuilder();
            foreach (char c in string.Join("-", parts)) sb.Append(char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.' ? c : '_');
            return sb + ".tar.gz";
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
            manifest.Files = new List<ManifestFile>(_files);
            if (string.IsNullOrEmpty(manifest.ToolVersion)) manifest.ToolVersion = BackupManifest.ToolVersionString;
            long total = 0;
            foreach (var f in _files) if (!_streamed.Contains(f.Path)) total += f.Size;
            var progress = new ProgressReporter(ctx, "Writing backup archive " + Path.GetFileName(FinalPath), total);
            var json = Encoding.UTF8.GetBytes(JsonConvert.SerializeObject(manifest, Formatting.Indented));
            if (_direct == null)
            {
                using (var file = new FileStream(PartialPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    FileModes.TrySetOwnerOnly(PartialPath);
                    using (var gzip = new GZipStream(file, CompressionLevel, leaveOpen: true))
                    using (var tar = new TarOutputStream(new NoFlushStream(gzip), Encoding.UTF8) { IsStreamOwner = false })
                    {
                        PutEntry(tar, BackupManifest.EntryName, json.Length, manifest.CreatedUtc);
                        tar.Write(json, 0, json.Length);
                        tar.CloseEntry();
                        WriteDirsAndStaged(tar, manifest.CreatedUtc, progress, ctx);
                        tar.Finish();
                    }
                    file.Flush(true);
                }
            }
            else
            {
                WriteDirsAndStaged(_directTar, manifest.CreatedUtc, progress, ctx);
                _directTar.Finish();
                _directTar.Dispose();
                bool fits = json.Length <= _reserve;
                _directGzip.Finish(ManifestHead(fits ? json : new byte[0], manifest.CreatedUtc));
                _direct.Flush(true);
                _direct.Dispose();
                _direct = null;
                // A manifest larger than the space kept for it: one more pass puts it first after all.
                if (!fits) RewriteWithManifest(json, manifest.CreatedUtc, ctx);
            }
            File.Move(PartialPath, FinalPath);
            _committed = true;
            progress.Complete();
            Cleanup();
            return new ClusterBackup(FinalPath, manifest, new FileInfo(FinalPath).Length);
        }

        private void WriteDirsAndStaged(TarOutputStream tar, DateTime created, ProgressReporter progress, IOperationContext ctx)
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
            string second = PartialPath + ".2";
            using (var src = new FileStream(PartialPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            using (var gunzip = new GZipStream(src, CompressionMode.Decompress))
            using (var tarIn = new TarInputStream(gunzip, Encoding.UTF8))
            using (var file = new FileStream(second, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                FileModes.TrySetOwnerOnly(second);
                using (var gzip = new GZipStream(file, CompressionLevel, leaveOpen: true))
                using (var tar = new TarOutputStream(new NoFlushStream(gzip), Encoding.UTF8) { IsStreamOwner = false })
                {
                    PutEntry(tar, BackupManifest.EntryName, json.Length, created);
                    tar.Write(json, 0, json.Length);
                    tar.CloseEntry();
                    tarIn.GetNextEntry(); // the placeholder
                    TarEntry e;
                    while ((e = tarIn.GetNextEntry()) != null)
                    {
                        Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                        tar.PutNextEntry(e);
                        if (!e.IsDirectory) tarIn.CopyEntryContents(tar);
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
                    if (!_streamed.Add(path)) throw new ArgumentException($"'{path}' is already in this archive.", nameof(path));
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

        internal void EndStreamedEntry(string path, bool failed)
        {
            try
            {
                if (failed) _broken = true;
                else _directTar.CloseEntry();
            }
            finally { _oneStream.Release(); }
        }

        /// <summary>A new private staging file for a payload path.</summary>
        internal FileStream CreateStagingFile(string rel)
        {
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
            _direct = new FileStream(PartialPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 18);
            FileModes.TrySetOwnerOnly(PartialPath);
            _directGzip = new PatchableGzip(_direct, 512 + _reserve, CompressionLevel);
            _directTar = new TarOutputStream(new NoFlushStream(_directGzip.Tail), Encoding.UTF8) { IsStreamOwner = false };
            return _directTar;
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
            try { _direct?.Dispose(); } catch { }
            _direct = null;
            try { if (File.Exists(PartialPath + ".2")) File.Delete(PartialPath + ".2"); } catch { }
            try { if (Directory.Exists(_stagingDir)) Directory.Delete(_stagingDir, true); } catch { }
            if (!_committed) { try { if (File.Exists(PartialPath)) File.Delete(PartialPath); } catch { } }
        }

        public void Dispose() => Cleanup();
    }
}
