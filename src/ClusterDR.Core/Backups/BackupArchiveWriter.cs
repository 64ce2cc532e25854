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
    /// Writes one backup archive: payload files are first streamed to a private staging folder beside
    /// the destination (hashing as they arrive; memory stays flat), then the archive is written as
    /// manifest.json followed by the payload into "name.tar.gz.partial", flushed to disk, made 0600
    /// and renamed. A crash or failure leaves no file that looks like a finished backup.
    /// </summary>
    public sealed class BackupArchiveWriter : IDisposable
    {
        private readonly string _stagingDir;
        private readonly List<ManifestFile> _files = new List<ManifestFile>();
        private readonly List<KeyValuePair<string, int>> _dirs = new List<KeyValuePair<string, int>>();
        private readonly Dictionary<string, int> _modes = new Dictionary<string, int>(StringComparer.Ordinal);
        private bool _committed;

        private BackupArchiveWriter(string finalPath)
        {
            FinalPath = finalPath;
            PartialPath = finalPath + ".partial";
            _stagingDir = Path.Combine(Path.GetDirectoryName(finalPath), "." + Path.GetFileName(finalPath) + ".staging");
        }

        public string FinalPath { get; }
        public string PartialPath { get; }

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
        public ManifestFile AddPayload(string archivePath, Action<Stream> write, int? mode = null)
        {
            string rel = ArchivePaths.Normalize(archivePath);
            if (rel == BackupManifest.EntryName) throw new ArgumentException("manifest.json is reserved.", nameof(archivePath));
            string staged = Path.Combine(_stagingDir, rel.Replace('/', Path.DirectorySeparatorChar));
            lock (_files) Directory.CreateDirectory(Path.GetDirectoryName(staged));
            ManifestFile entry;
            using (var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                FileModes.TrySetOwnerOnly(staged);
                using (var hashing = new HashingStream(file, leaveOpen: true))
                {
                    write(hashing);
                    hashing.Flush();
                    entry = new ManifestFile { Path = rel, Size = hashing.BytesWritten, Sha256 = hashing.HashHex() };
                }
            }
            // Payloads may be staged from several threads at once (parallel S3 downloads); only the lists are shared.
            lock (_files)
            {
                _files.Add(entry);
                if (mode.HasValue) _modes[rel] = mode.Value & Convert.ToInt32("7777", 8);
            }
            return entry;
        }

        /// <summary>Writes manifest + payload to .partial, flushes, renames. Returns the finished backup.</summary>
        public ClusterBackup Commit(BackupManifest manifest, IOperationContext ctx)
        {
            manifest.Files = new List<ManifestFile>(_files);
            if (string.IsNullOrEmpty(manifest.ToolVersion)) manifest.ToolVersion = BackupManifest.ToolVersionString;
            long total = 0;
            foreach (var f in _files) total += f.Size;
            var progress = new ProgressReporter(ctx, "Writing backup archive " + Path.GetFileName(FinalPath), total);
            using (var file = new FileStream(PartialPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                FileModes.TrySetOwnerOnly(PartialPath);
                using (var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true))
                using (var tar = new TarOutputStream(gzip, Encoding.UTF8) { IsStreamOwner = false })
                {
                    var json = Encoding.UTF8.GetBytes(JsonConvert.SerializeObject(manifest, Formatting.Indented));
                    PutEntry(tar, BackupManifest.EntryName, json.Length, manifest.CreatedUtc);
                    tar.Write(json, 0, json.Length);
                    tar.CloseEntry();
                    foreach (var d in _dirs)
                    {
                        var dir = TarEntry.CreateTarEntry(d.Key + "/");
                        dir.ModTime = manifest.CreatedUtc == default ? DateTime.UtcNow : manifest.CreatedUtc;
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
                        Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                        string staged = Path.Combine(_stagingDir, f.Path.Replace('/', Path.DirectorySeparatorChar));
                        PutEntry(tar, f.Path, f.Size, manifest.CreatedUtc, _modes.TryGetValue(f.Path, out var m) ? m : Convert.ToInt32("600", 8));
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
                    tar.Finish();
                }
                file.Flush(true);
            }
            File.Move(PartialPath, FinalPath);
            _committed = true;
            progress.Complete();
            Cleanup();
            return new ClusterBackup(FinalPath, manifest, new FileInfo(FinalPath).Length);
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
            try { if (Directory.Exists(_stagingDir)) Directory.Delete(_stagingDir, true); } catch { }
            if (!_committed) { try { if (File.Exists(PartialPath)) File.Delete(PartialPath); } catch { } }
        }

        public void Dispose() => Cleanup();
    }
}
