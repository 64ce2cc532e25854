using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3;
using Amazon.S3.Model;
using ClusterDR.Backups;
using ClusterDR.Safety;
using ClusterDR.Transport;

namespace ClusterDR.Deis
{
    public sealed class DeisStoreRestoreRequest
    {
        public string BackupPath { get; set; }
        public DeisS3Options S3 { get; set; } = new DeisS3Options();
        public DeisNodeOptions Nodes { get; set; } = new DeisNodeOptions();
        public IRemoteShell StoreShell { get; set; }
        public IRemoteShell DatabaseShell { get; set; }
        public IRemoteShell ControllerShell { get; set; }
        public bool RestoreVolume { get; set; } = true;
        public bool RestoreDatabase { get; set; }
        public bool ReSave { get; set; }
        public bool Force { get; set; }
    }

    /// <summary>Bytes and items restored for one part of the store (buckets, volume, database, re-save).</summary>
    public sealed class DeisRestorePart
    {
        public string Name { get; set; }
        public int Items { get; set; }
        public long Bytes { get; set; }
        public override string ToString() => $"{Name}: {Items} item(s), {Bytes} bytes";
    }

    /// <summary>
    /// Restore-DeisStore's engine: verify the archive, prove the keys, guard (target buckets empty),
    /// then one ShouldProcess step each: create the buckets, upload the objects (parallel, each sent
    /// with its Content-MD5 and checked with HEAD afterwards), untar the volume with owners, load the
    /// SQL dump, re-save keys/apps/domains on the controller.
    /// </summary>
    public static class DeisStoreRestore
    {
        public static RestoreResult Run(DeisStoreRestoreRequest req, IOperationContext ctx)
        {
            var clock = Stopwatch.StartNew();
            var started = DateTime.UtcNow;
            var ct = ctx.Cancellation;
            var backup = BackupVerifier.Verify(req.BackupPath, ctx, DeisStore.Kind);
            var m = backup.Manifest;
            var s3o = req.S3;
            var buckets = (m.Fact("buckets") ?? "").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries);
            if ((string.IsNullOrEmpty(s3o.AccessKey) || s3o.SecretKey == null) && req.StoreShell != null)
                DeisStore.ReadKeysFromNode(req.StoreShell, req.Nodes, s3o, ct);
            bool hasVolume = m.Files.Any(f => f.Path == DeisStore.VolumePayload);
            bool hasDb = m.Files.Any(f => f.Path == DeisStore.DatabasePayload);
            if (req.RestoreVolume && hasVolume && req.StoreShell == null)
                throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, "The backup holds the store volume: give -Node (a store node) or -SkipVolume.");
            if (req.RestoreDatabase && !hasDb)
                throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidArgument, $"'{backup.Path}' holds no database dump (it was taken without -IncludeDatabase).", backup.Path);
            var dbShell = req.DatabaseShell ?? req.StoreShell;
            if (req.RestoreDatabase && dbShell == null)
                throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, "-IncludeDatabase needs -DatabaseNode or -Node.");
            if (req.ReSave && req.ControllerShell == null)
                throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, "-ReSave needs -ControllerNode.");

            var parts = new List<DeisRestorePart>();
            var result = new RestoreResult { Platform = DeisStore.Platform, Cluster = backup.Cluster, BackupPath = backup.Path, StartedUtc = started };
            using (var s3 = DeisStore.Client(s3o))
            {
                // Keys and guard first: nothing is written with wrong keys or onto a store that holds data.
                var existing = new HashSet<string>(DeisStore.S3(s3o, "Listing buckets", () => s3.ListBucketsAsync(ct)).Buckets?.Select(b => b.BucketName) ?? Enumerable.Empty<string>());
                var full = new List<string>();
                foreach (var b in buckets.Where(existing.Contains))
                {
                    var page = DeisStore.S3(s3o, $"Listing bucket {b}", () => s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = b, MaxKeys = 1 }, ct));
                    if (page.S3Objects != null && page.S3Objects.Count > 0) full.Add(b);
                }
                if (full.Count > 0)
                {
                    string msg = $"The target store already holds data in bucket(s) {string.Join(", ", full)} at {s3o.GatewayUri}; a restore would mix the backup into it.";
                    if (!req.Force) throw new ClusterDrException(ErrorIds.StoreNotEmpty, ErrorKind.ResourceExists, msg + " Use -Force to restore anyway (objects with the same key are overwritten). Nothing was changed.", s3o.GatewayUri);
                    ctx.WriteWarning(msg + " Going on because -Force was given.");
                }

                var objects = m.Files.Where(f => DeisStore.TryParseArchiveName(f.Path, out _, out _)).ToList();
                string gw = s3o.GatewayUri.ToString();
                var plan = new Plan(ctx, "Restore-DeisStore", ErrorIds.RestoreFailed);
                var missing = buckets.Where(b => !existing.Contains(b)).ToList();
                plan.Add(gw, $"Create bucket(s) {string.Join(", ", buckets)}", () =>
                {
                    foreach (var b in missing) DeisStore.S3(s3o, $"Creating bucket {b}", () => s3.PutBucketAsync(new PutBucketRequest { BucketName = b }, ct));
                    parts.Add(new DeisRestorePart { Name = "buckets", Items = missing.Count });
                });
                plan.Add(gw, $"Upload {objects.Count} object(s), {objects.Sum(f => f.Size)} bytes", () =>
                    parts.Add(UploadAll(s3, s3o, backup, buckets, ctx)));
                if (req.RestoreVolume && hasVolume)
                {
                    var sh = req.StoreShell;
                    string d = Sh.Quote(req.Nodes.StoreDir);
                    plan.Add(sh.Node, $"Extract the store volume into {req.Nodes.StoreDir} (owners and modes preserved)", () =>
                        parts.Add(StreamPayload(backup, DeisStore.VolumePayload, sh, "volume", "tar -x of the store volume",
                            $"mkdir -p {d} && tar -x --same-owner --numeric-owner -p -C {d} -f -", ctx)));
                }
                if (req.RestoreDatabase)
                    plan.Add(dbShell.Node, "Load the database dump (pg_dumpall)", () =>
                        parts.Add(StreamPayload(backup, DeisStore.DatabasePayload, dbShell, "database", "loading the database dump", req.Nodes.DatabaseLoadCommand, ctx)));
                if (req.ReSave)
                    plan.Add(req.ControllerShell.Node, "Re-save keys, apps and domains on the controller", () =>
                    {
                        req.ControllerShell.RunChecked("the controller re-save step", req.Nodes.ControllerCommand, ct, DeisStore.ReSaveScript);
                        parts.Add(new DeisRestorePart { Name = "controller", Items = 3 });
                    });
                if (!plan.Execute()) return null;
                result.Steps = plan.Steps.Select(s => s.ToString()).ToArray();
            }
            result.Members = new[] { req.StoreShell?.Node, req.RestoreDatabase ? dbShell?.Node : null, req.ReSave ? req.ControllerShell?.Node : null }.Where(x => x != null).Distinct().ToArray();
            result.Parts = parts.ToArray();
            result.Duration = clock.Elapsed;
            return result;
        }

        /// <summary>
        /// Reads the archive once; each object is re-hashed against the manifest into a temp file, then
        /// uploaded by one of the parallel workers with its Content-MD5 and checked by HEAD (size, ETag).
        /// </summary>
        private static DeisRestorePart UploadAll(AmazonS3Client s3, DeisS3Options o, ClusterBackup backup, string[] buckets, IOperationContext ctx)
        {
            var ct = ctx.Cancellation;
            var expected = backup.Manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
            string tmp = Path.Combine(Path.GetTempPath(), "clusterdr-deis-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tmp);
            FileModes.TrySetOwnerOnly(tmp);
            var gate = new SemaphoreSlim(Math.Max(1, o.Parallelism));
            var tasks = new List<Task>();
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            long total = backup.Manifest.Files.Where(f => DeisStore.TryParseArchiveName(f.Path, out _, out _)).Sum(f => f.Size), done = 0;
            int count = 0, seq = 0;
            var progress = new ProgressReporter(ctx, "Uploading the Deis store's objects", total);
            try
            {
                using (var reader = BackupArchiveReader.Open(backup.Path))
                {
                    reader.ForEachEntry((name, entry, content) =>
                    {
                        if (entry.IsDirectory || !DeisStore.TryParseArchiveName(name, out var bucket, out var key)) return;
                        if (!errors.IsEmpty) return;
                        if (!buckets.Contains(bucket) || !expected.TryGetValue(name, out var file))
                            throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData, $"'{backup.Path}' holds '{name}', which its manifest does not list.", backup.Path);
                        string staged = Path.Combine(tmp, (seq++).ToString(System.Globalization.CultureInfo.InvariantCulture));
                        byte[] md5;
                        using (var f = new FileStream(staged, FileMode.CreateNew, FileAccess.Write))
                        using (var hashing = new ReadHashingStream(content))
                        using (var h = MD5.Create())
                        {
                            var buf = new byte[1 << 16];
                            int n;
                            while ((n = hashing.Read(buf, 0, buf.Length)) > 0) { f.Write(buf, 0, n); h.TransformBlock(buf, 0, n, null, 0); }
                            h.TransformFinalBlock(new byte[0], 0, 0);
                            md5 = h.Hash;
                            if (hashing.BytesRead != file.Size || hashing.HashHex() != file.Sha256)
                                throw new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData, $"{name} in '{backup.Path}' changed after it was verified.", backup.Path);
                        }
                        gate.Wait(ct);
                        tasks.Add(Task.Run(async () =>
                        {
                            try
                            {
                                await Upload(s3, o, bucket, key, staged, md5, file.Size, ct).ConfigureAwait(false);
                                Interlocked.Add(ref done, file.Size);
                                Interlocked.Increment(ref count);
                            }
                            catch (Exception ex) { errors.Enqueue(ex); }
                            finally { try { File.Delete(staged); } catch { } gate.Release(); }
                        }));
                        progress.Report(Interlocked.Read(ref done));
                    });
                }
                Task.WaitAll(tasks.ToArray());
            }
            finally
            {
                try { Task.WaitAll(tasks.ToArray()); } catch { }
                try { Directory.Delete(tmp, true); } catch { }
            }
            if (errors.TryDequeue(out var first)) throw DeisStore.Map(first, o, "Uploading objects");
            progress.Complete();
            ctx.WriteVerbose($"Uploaded {count} object(s), {done} bytes to {o.GatewayUri}, each checked by size and MD5.");
            return new DeisRestorePart { Name = "objects", Items = count, Bytes = done };
        }

        private static async Task Upload(AmazonS3Client s3, DeisS3Options o, string bucket, string key, string file, byte[] md5, long size, CancellationToken ct)
        {
            string b64 = Convert.ToBase64String(md5);
            using (var f = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous))
            {
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = f, MD5Digest = b64, AutoCloseStream = false, UseChunkEncoding = false }, ct).ConfigureAwait(false);
            }
            var head = await s3.GetObjectMetadataAsync(bucket, key, ct).ConfigureAwait(false);
            string etag = (head.ETag ?? "").Trim('"');
            if (head.ContentLength != size || !string.Equals(etag, HashingStream.Hex(md5), StringComparison.OrdinalIgnoreCase))
                throw new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData, $"{bucket}/{key}: after the upload the gateway reports {head.ContentLength} bytes, ETag {etag}; expected {size} bytes, MD5 {HashingStream.Hex(md5)}.", bucket + "/" + key);
        }

        /// <summary>Streams one payload (re-hashed against the manifest) into a command's stdin on a node.</summary>
        private static DeisRestorePart StreamPayload(ClusterBackup backup, string payload, IRemoteShell sh, string part, string what, string script, IOperationContext ctx)
        {
            var file = backup.Manifest.Files.Single(f => f.Path == payload);
            bool found = false;
            using (var reader = BackupArchiveReader.Open(backup.Path))
            {
                reader.ForEachEntry((name, entry, content) =>
                {
                    if (name != payload) return;
                    found = true;
                    using (var hashing = new ReadHashingStream(content))
                    {
                        sh.RunStreaming(what, script, hashing, Stream.Null, ctx.Cancellation);
                        var rest = new byte[1 << 16];
                        while (hashing.Read(rest, 0, rest.Length) > 0) { }
                        if (hashing.BytesRead != file.Size || hashing.HashHex() != file.Sha256)
                            throw new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData, $"{payload} in '{backup.Path}' changed after it was verified.", backup.Path);
                    }
                });
            }
            if (!found) throw new ClusterDrException(ErrorIds.PayloadMissing, ErrorKind.InvalidData, $"'{backup.Path}' lacks {payload}.", backup.Path);
            ctx.WriteVerbose($"{what} on {sh.Node}: {file.Size} bytes.");
            return new DeisRestorePart { Name = part, Items = 1, Bytes = file.Size };
        }
    }
}
