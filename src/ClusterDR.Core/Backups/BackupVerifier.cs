using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ClusterDR.Safety;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Test-ClusterBackup's engine: one streaming pass that re-hashes every payload file against the
    /// manifest and runs the platform's own checks. Restores call it before touching anything.
    /// </summary>
    public static class BackupVerifier
    {
        public static ClusterBackup Verify(Stores.BackupLocation path, IOperationContext ctx, string expectedKind = null)
        {
            var result = Verify(path, ctx, expectedKind, out var index);
            index?.Dispose();
            return result;
        }

        /// <summary>
        /// Verifies, and hands over the verified payload index (null when the backup has none) for a restore that reads
        /// the archive again; the caller disposes it.
        /// </summary>
        public static ClusterBackup Verify(Stores.BackupLocation path, IOperationContext ctx, string expectedKind, out PayloadIndexFile verifiedIndex) =>
            Verify(path, ctx, expectedKind, null, null, out verifiedIndex);

        /// <summary>
        /// Verifies the archive as it streams through <paramref name="tap"/>, which sees every byte of the file in order
        /// (Copy-ClusterBackup writes the copy from it); the caller drains what the tap has not seen.
        /// </summary>
        /// <remarks>
        /// <paramref name="extract"/>, when given, is asked for a stream per payload entry (directories too, whose stream
        /// it returns null) and receives that entry's bytes as they are hashed: a rehearsal extracts in the same pass.
        /// What it wrote is only trustworthy once this returns.
        /// </remarks>
        internal static ClusterBackup Verify(Stores.BackupLocation path, IOperationContext ctx, string expectedKind, Func<Stream, Stream> tap,
            Func<string, ICSharpCode.SharpZipLib.Tar.TarEntry, Stream> extract, out PayloadIndexFile verifiedIndex, bool platformChecks = true)
        {
            verifiedIndex = null;
            using (var reader = BackupArchiveReader.Open(path, tap))
            {
                var manifest = reader.Manifest;
                if (expectedKind != null && !string.Equals(manifest.Kind, expectedKind, StringComparison.OrdinalIgnoreCase))
                    throw new ClusterDrException(ErrorIds.WrongBackupKind, ErrorKind.InvalidArgument,
                        $"'{reader.Path}' is a {manifest.Kind} backup, not a {expectedKind} backup.", reader.Path);
                var expected = manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var checksRun = new List<string>();
                using (var index = manifest.Index == null ? null : new PayloadIndexCheck(manifest.Index, reader.Path))
                {
                    long total = manifest.Files.Sum(f => f.Size) + (manifest.Index?.Bytes ?? 0), done = 0;
                    var progress = new ProgressReporter(ctx, "Verifying " + Path.GetFileName(reader.Path), total);
                    var buffer = new byte[1 << 16];
                    reader.ForEachEntry((name, entry, content) =>
                    {
                        Safety.CancellationScope.Effective(ctx.Cancellation).ThrowIfCancellationRequested();
                        if (entry.IsDirectory) { extract?.Invoke(name, entry)?.Dispose(); return; }
                        // An indexed file's expected hash is in the index, the archive's last entry: compared when it has been read.
                        bool indexed = index != null && index.Covers(name);
                        ManifestFile file;
                        if (indexed) file = new ManifestFile { Path = name, Size = entry.Size };
                        else if (!expected.TryGetValue(name, out file))
                            throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData,
                                $"'{reader.Path}' holds '{name}', which its manifest does not list.", reader.Path);
                        else if (!seen.Add(name))
                            throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{reader.Path}' holds '{name}' twice.", reader.Path);
                        // A caller that hands the payload to the platform's own tool, which checks it anyway, may skip them.
                        var checks = platformChecks ? PayloadChecks.For(manifest, file) : new List<IPayloadCheck>();
                        var indexCopy = index != null && name == manifest.Index.Path ? index.Sink : null;
                        using (var copy = extract?.Invoke(name, entry))
                        using (var hashing = new HashingStream(Stream.Null))
                        {
                            int n;
                            while ((n = content.Read(buffer, 0, buffer.Length)) > 0)
                            {
                                hashing.Write(buffer, 0, n);
                                copy?.Write(buffer, 0, n);
                                foreach (var c in checks) c.Sink.Write(buffer, 0, n);
                                indexCopy?.Write(buffer, 0, n);
                                done += n;
                                progress.Report(done);
                            }
                            if (indexed) index.Observe(name, hashing.BytesWritten, hashing.HashHex());
                            else if (hashing.BytesWritten != file.Size || hashing.HashHex() != file.Sha256)
                            {
                                reader.EnsureComplete(); // a cut-off archive is "corrupt", not "changed"
                                throw PayloadIndexCheck.Mismatch(reader.Path, file, hashing.BytesWritten, hashing.HashHex(), "its manifest");
                            }
                        }
                        foreach (var c in checks)
                        {
                            c.Complete();
                            checksRun.Add(c.Description);
                        }
                    });
                    reader.EnsureComplete();
                    var missing = expected.Keys.Where(k => !seen.Contains(k)).ToList();
                    if (missing.Count > 0)
                        throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData,
                            $"'{reader.Path}' lacks {string.Join(", ", missing)}, listed in its manifest: the archive is truncated or incomplete.", reader.Path);
                    if (index != null)
                    {
                        index.Complete();
                        checksRun.Insert(0, index.Description);
                    }
                    progress.Complete();
                    var result = new ClusterBackup(reader.Location, manifest, reader.Length)
                    {
                        Verified = true,
                        Encrypted = reader.Encrypted,
                        VerifiedUtc = DateTime.UtcNow,
                        Verification = $"{manifest.Files.Count + (manifest.Index?.Files ?? 0)} file(s), {total} bytes: SHA-256 match" +
                                       (checksRun.Count > 0 ? "; " + string.Join("; ", checksRun) : ""),
                    };
                    verifiedIndex = index?.Keep();
                    return result;
                }
            }
        }
    }
}
