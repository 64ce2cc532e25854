using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
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
    public sealed class DeisStoreBackupRequest
    {
        public DeisS3Options S3 { get; set; } = new DeisS3Options();
        public DeisNodeOptions Nodes { get; set; } = new DeisNodeOptions();
        /// <summary>A store node: Ceph guard, the store volume, deisctl for the keys when none are given.</summary>
        public IRemoteShell StoreShell { get; set; }
        /// <summary>Where the database dump runs (default: the store node).</summary>
        public IRemoteShell DatabaseShell { get; set; }
        public bool IncludeVolume { get; set; } = true;
        public bool IncludeDatabase { get; set; }
        public string Directory { get; set; }
        public string Label { get; set; }
        public bool Force { get; set; }
        /// <summary>Format and compression of the archive (zstd level 1 by default).</summary>
        public ArchiveOptions Archive { get; set; } = new ArchiveOptions();
    }

    /// <summary>
    /// Backup-DeisStore's engine: guard (Ceph quorum and health), prove the keys work, then stream every
    /// object of the store's buckets (parallel), the store volume's tar and optionally pg_dumpall into
    /// one archive. Nothing is written before the keys and the guard pass.
    /// </summary>
    public static class DeisStoreBackup
    {
        public static ClusterBackup Run(DeisStoreBackupRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var ct = ctx.Cancellation;
            var s3o = req.S3;
            var sh = req.StoreShell;
            QuorumStatus ceph = null;
            if (sh != null) ceph = DeisStore.Guard(sh, req.Nodes, req.Force, ctx);
            else ctx.WriteWarning("No store node given: the Ceph quorum guard and the store volume are skipped.");
            if ((string.IsNullOrEmpty(s3o.AccessKey) || s3o.SecretKey == null) && sh != null)
                DeisStore.ReadKeysFromNode(sh, req.Nodes, s3o, ct);

            using (var s3 = DeisStore.Client(s3o))
            // Prove the keys and list every object before anything is written.
            using (var listing = DeisObjectListing.Of(s3, s3o, ct))
            {
                long totalBytes = listing.Bytes;
                int totalObjects = listing.Objects;

                var created = DateTime.UtcNow;
                string cluster = ceph?.Cluster ?? s3o.GatewayUri.Host;
                string fileName = req.Archive.FileName(DeisStore.Kind, cluster, req.Label, created);
                string target = Path.Combine(Path.GetFullPath(req.Directory), fileName);
                var facts = new Dictionary<string, string>
                {
                    ["gateway"] = s3o.GatewayUri.ToString(),
                    ["buckets"] = string.Join(",", s3o.Buckets),
                    ["objects"] = totalObjects.ToString(CultureInfo.InvariantCulture),
                    ["objectBytes"] = totalBytes.ToString(CultureInfo.InvariantCulture),
                };
                foreach (var kv in listing.PerBucket) facts["objects." + kv.Key] = kv.Value.ToString(CultureInfo.InvariantCulture);
                ClusterBackup result = null;
                BackupArchiveWriter writer = null;
                try
                {
                    var plan = new Plan(ctx, "Backup-DeisStore", ErrorIds.BackupFailed);
                    plan.Add(target, $"Copy {totalObjects} object(s), {totalBytes} bytes of bucket(s) {string.Join(", ", s3o.Buckets)} into the backup{req.Archive.EncryptionNote}", () =>
                    {
                        writer = req.Archive.CreateWriter(req.Directory, fileName);
                        // The objects are listed in an index payload, not in manifest.json: the manifest stays small (and fits its default room) whatever their number.
                        writer.IndexPayloadsUnder(DeisStore.ObjectIndexPayload, DeisStore.ObjectsRoot + "/", DeisStore.EncodedObjectsRoot + "/");
                        DownloadAll(s3, s3o, listing, writer, ctx);
                    });
                    if (req.IncludeVolume && sh != null)
                        plan.Check(target, $"Copy the store volume {req.Nodes.StoreDir} from {sh.Node}", () =>
                        {
                            long b = StreamCommand(sh, "tar of " + req.Nodes.StoreDir,
                                $"cd {Sh.Quote(req.Nodes.StoreDir)} && tar -c --numeric-owner -f - .", DeisStore.VolumePayload, writer, ctx, tarWarnings: true);
                            facts["volumeDir"] = req.Nodes.StoreDir;
                            facts["volumeBytes"] = b.ToString(CultureInfo.InvariantCulture);
                        });
                    if (req.IncludeDatabase)
                    {
                        var db = req.DatabaseShell ?? sh ?? throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, "-IncludeDatabase needs a node that runs the database (-DatabaseNode, -Node or -SshSession).");
                        plan.Check(target, $"Copy pg_dumpall of the database on {db.Node}", () =>
                        {
                            long b = StreamCommand(db, "pg_dumpall", req.Nodes.DatabaseDumpCommand, DeisStore.DatabasePayload, writer, ctx, tarWarnings: false);
                            facts["databaseBytes"] = b.ToString(CultureInfo.InvariantCulture);
                        });
                    }
                    plan.Check(target, "Write the backup archive", () =>
                    {
                        var manifest = new BackupManifest
                        {
                            Kind = DeisStore.Kind, Cluster = cluster, Label = req.Label, CreatedUtc = created,
                            SourceNodes = new[] { s3o.GatewayUri.ToString(), sh?.Node, req.IncludeDatabase ? (req.DatabaseShell ?? sh)?.Node : null }.Where(x => x != null).Distinct().ToList(),
                            Facts = facts,
                        };
                        result = writer.Commit(manifest, ctx);
                    });
                    plan.Execute();
                    return result;
                }
                finally { writer?.Dispose(); }
            }
        }

        internal static List<S3Object> List(AmazonS3Client s3, DeisS3Options o, string bucket, CancellationToken ct)
        {
            var all = new List<S3Object>();
            ListPages(s3, o, bucket, ct, all.AddRange);
            return all;
        }

        /// <summary>Every object of <paramref name="bucket"/>, a page (up to 1000) at a time.</summary>
        internal static void ListPages(AmazonS3Client s3, DeisS3Options o, string bucket, CancellationToken ct, Action<List<S3Object>> page)
        {
            string token = null;
            do
            {
                var p = DeisStore.S3(o, $"Listing bucket {bucket}", () => s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token }, ct));
                if (p.S3Objects != null) page(p.S3Objects);
                token = p.IsTruncated == true ? p.NextContinuationToken : null;
            } while (token != null);
        }

        /// <summary>Objects up to this size are read into memory by the parallel workers and then written into the archive at once.</summary>
        internal const long InMemoryLimit = 8L * 1024 * 1024;

        /// <summary>
        /// Reused 8 MiB buffers: allocating one per object or range put them all on the large-object heap,
        /// and the process grew to hundreds of MB before a full GC. In use at once: workers + ranges in flight.
        /// </summary>
        private sealed class BufferPool
        {
            private readonly ConcurrentBag<byte[]> _free = new ConcurrentBag<byte[]>();
            public byte[] Rent(long length) => length <= 64 * 1024 ? new byte[length] : _free.TryTake(out var b) ? b : new byte[InMemoryLimit];
            public void Return(byte[] b) { if (b.Length == InMemoryLimit) _free.Add(b); }
        }

        /// <summary>At most this many bytes of whole objects are held in memory at once, however many transfers run.</summary>
        internal const long MemoryBudget = 64L * 1024 * 1024;

        /// <summary>Ranged reads of one large object in flight at once (8 MiB each).</summary>
        internal const int RangesInFlight = 4;

        /// <summary>Bytes that may be held at once: many small objects in parallel, fewer large ones.</summary>
        private sealed class Budget
        {
            private long _left;
            public Budget(long bytes) { _left = bytes; }

            public void Take(long n, CancellationToken ct)
            {
                lock (this)
                {
                    while (_left < n)
                    {
                        ct.ThrowIfCancellationRequested();
                        Monitor.Wait(this, 100);
                    }
                    _left -= n;
                }
            }

            public void Give(long n)
            {
                lock (this) { _left += n; Monitor.PulseAll(this); }
            }
        }

        /// <summary>
        /// Downloads every object straight into the archive (sizes are known from the listing, so nothing is
        /// staged), checking size and MD5 (ETag) on the way. Small objects first: many workers GET them in
        /// parallel into memory (small GETs are latency-bound: 4 workers took 12 ms an object, 16 took 4.7),
        /// each then takes the archive for a moment. Large objects follow one at a time, each fetched as
        /// <see cref="RangesInFlight"/> parallel ranged GETs written in order. Memory stays bounded by
        /// <see cref="MemoryBudget"/> plus the ranges in flight, whatever the store's size.
        /// </summary>
        private static void DownloadAll(AmazonS3Client s3, DeisS3Options o, DeisObjectListing listing, BackupArchiveWriter writer, IOperationContext ctx)
        {
            var ct = ctx.Cancellation;
            bool IsSmall((string Bucket, S3Object Obj) x) => (x.Obj.Size ?? 0) <= InMemoryLimit;
            long total = listing.Bytes, done = 0;
            int smallCount = 0, largeCount = 0;
            var progress = new ProgressReporter(ctx, "Copying the Deis store's objects", total);
            var errors = new ConcurrentQueue<Exception>();
            var pool = new BufferPool();
            var budget = new Budget(MemoryBudget);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double smallSeconds = 0;
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(Safety.CancellationScope.Effective(ct)))
            {
                // Fed from the listing file as the workers take them: a few objects per worker wait, never the whole listing.
                int workerCount = Math.Max(1, o.Parallelism);
                using var work = new BlockingCollection<(string bucket, S3Object obj)>(4 * workerCount);
                var workers = Enumerable.Range(0, workerCount).Select(_ => Task.Run(() =>
                {
                    foreach (var item in work.GetConsumingEnumerable())
                    {
                        if (stop.IsCancellationRequested) continue;
                        try
                        {
                            long need = Math.Max(64 * 1024, item.obj.Size ?? 0);
                            budget.Take(need, stop.Token);
                            (byte[] Buffer, int Length) data;
                            try { data = DeisStore.S3(o, $"Downloading {item.bucket}/{item.obj.Key}", () => GetSmall(s3, pool, item.bucket, item.obj, stop.Token), item.bucket + "/" + item.obj.Key); }
                            catch { budget.Give(need); throw; }
                            try
                            {
                                writer.AddStreamedPayload(DeisStore.ArchiveName(item.bucket, item.obj.Key), sink =>
                                {
                                    sink.DeclareLength(data.Length);
                                    sink.Write(data.Buffer, 0, data.Length);
                                });
                            }
                            finally { pool.Return(data.Buffer); budget.Give(need); }
                            Interlocked.Add(ref done, data.Length);
                        }
                        catch (Exception ex) { errors.Enqueue(ex); stop.Cancel(); }
                    }
                })).ToArray();
                try
                {
                    foreach (var item in listing.Read())
                    {
                        if (!IsSmall(item)) continue;
                        smallCount++;
                        // Progress comes from this (the calling) thread while it waits for room in the queue.
                        while (!stop.IsCancellationRequested && !work.TryAdd(item, 200)) progress.Report(Interlocked.Read(ref done));
                        if (stop.IsCancellationRequested) break;
                    }
                }
                catch
                {
                    // The workers still use the queue: let them end before it goes.
                    stop.Cancel();
                    work.CompleteAdding();
                    try { Task.WaitAll(workers); } catch (AggregateException) { }
                    throw;
                }
                work.CompleteAdding();
                while (!Task.WaitAll(workers, 200)) progress.Report(Interlocked.Read(ref done));
                smallSeconds = clock.Elapsed.TotalSeconds;
                foreach (var pair in listing.Read())
                {
                    if (IsSmall(pair)) continue;
                    if (!errors.IsEmpty || stop.IsCancellationRequested) break;
                    var item = (bucket: pair.Bucket, obj: pair.Obj);
                    largeCount++;
                    try
                    {
                        writer.AddStreamedPayload(DeisStore.ArchiveName(item.bucket, item.obj.Key), sink =>
                            GetLarge(s3, o, pool, item.bucket, item.obj, sink, Math.Max(1, Math.Min(RangesInFlight, o.Parallelism)), n => { done += n; progress.Report(done); }, stop.Token));
                    }
                    catch (Exception ex) { errors.Enqueue(ex); }
                }
                progress.Complete();
            }
            if (errors.TryDequeue(out var first)) throw first is ClusterDrException ? first : DeisStore.Map(first, o, "Downloading objects");
            ct.ThrowIfCancellationRequested();
            ctx.WriteVerbose($"Copied {listing.Objects} object(s), {done} bytes from {o.GatewayUri} ({smallCount} read whole in parallel, {largeCount} in parallel ranges; {smallSeconds:0.0} s + {clock.Elapsed.TotalSeconds - smallSeconds:0.0} s).");
        }

        /// <summary>One object, whole, into a (pooled) buffer; size and MD5 checked.</summary>
        private static async Task<(byte[] Buffer, int Length)> GetSmall(AmazonS3Client s3, BufferPool pool, string bucket, S3Object obj, CancellationToken ct)
        {
            using (var resp = await s3.GetObjectAsync(bucket, obj.Key, ct).ConfigureAwait(false))
            {
                long expected = obj.Size ?? resp.ContentLength;
                var data = pool.Rent(expected);
                try
                {
                    int at = 0, n;
                    while (at < expected && (n = await resp.ResponseStream.ReadAsync(data, at, (int)expected - at, ct).ConfigureAwait(false)) > 0) at += n;
                    // One byte more than listed is as wrong as one less.
                    long size = at + (at == expected && resp.ResponseStream.ReadByte() >= 0 ? 1 : 0);
                    byte[] md5;
                    using (var h = MD5.Create()) md5 = h.ComputeHash(data, 0, at);
                    Check(bucket, obj, size, md5, resp.ETag);
                    return (data, at);
                }
                catch
                {
                    pool.Return(data);
                    throw;
                }
            }
        }

        /// <summary>
        /// One large object as ranged GETs of <see cref="InMemoryLimit"/> bytes, up to <paramref name="parallel"/>
        /// in flight, written to <paramref name="sink"/> in order (MD5 over the whole, as S3 computes it for a single PUT).
        /// </summary>
        private static void GetLarge(AmazonS3Client s3, DeisS3Options o, BufferPool pool, string bucket, S3Object obj, PayloadSink sink, int parallel, Action<long> progress, CancellationToken ct)
        {
            long size = obj.Size ?? 0;
            sink.DeclareLength(size);
            string etag = null;
            using (var md5 = MD5.Create())
            {
                var pending = new Queue<Task<(byte[] Data, int Length, string ETag)>>();
                long next = 0;
                try
                {
                    while (next < size || pending.Count > 0)
                    {
                        while (next < size && pending.Count < parallel)
                        {
                            long from = next, to = Math.Min(size, next + InMemoryLimit) - 1;
                            var buffer = pool.Rent(InMemoryLimit);
                            pending.Enqueue(Task.Run(() => DeisStore.S3(o, $"Downloading {bucket}/{obj.Key} bytes {from}-{to}", () => GetRange(s3, buffer, bucket, obj.Key, from, to, ct), bucket + "/" + obj.Key), ct));
                            next = to + 1;
                        }
                        var part = pending.Dequeue().GetAwaiter().GetResult();
                        try
                        {
                            if (etag == null) etag = part.ETag;
                            else if (!string.Equals(etag, part.ETag, StringComparison.Ordinal))
                                throw new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData, $"{bucket}/{obj.Key} changed while it was read (its ETag moved from {etag} to {part.ETag}).", bucket + "/" + obj.Key, surfaceAsIs: true);
                            md5.TransformBlock(part.Data, 0, part.Length, null, 0);
                            sink.Write(part.Data, 0, part.Length);
                            progress(part.Length);
                        }
                        finally { pool.Return(part.Data); }
                    }
                }
                finally
                {
                    // On failure, let the ranges in flight finish before their buffers can be reused.
                    foreach (var t in pending) { try { pool.Return(t.GetAwaiter().GetResult().Data); } catch { } }
                }
                md5.TransformFinalBlock(new byte[0], 0, 0);
                Check(bucket, obj, sink.BytesWritten, md5.Hash, etag);
            }
        }

        private static async Task<(byte[], int, string)> GetRange(AmazonS3Client s3, byte[] data, string bucket, string key, long from, long to, CancellationToken ct)
        {
            var req = new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = new ByteRange(from, to) };
            using (var resp = await s3.GetObjectAsync(req, ct).ConfigureAwait(false))
            {
                int length = (int)(to - from + 1);
                int at = 0, n;
                while (at < length && (n = await resp.ResponseStream.ReadAsync(data, at, length - at, ct).ConfigureAwait(false)) > 0) at += n;
                if (at != length)
                    throw new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData, $"{bucket}/{key}: bytes {from}-{to} came back {at} bytes long.", bucket + "/" + key, surfaceAsIs: true);
                return (data, length, resp.ETag);
            }
        }

        internal static void Check(string bucket, S3Object obj, long size, byte[] md5, string etag)
        {
            if (obj.Size.HasValue && size != obj.Size.Value)
                throw new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData, $"{bucket}/{obj.Key}: read {size} bytes, the listing says {obj.Size}.", bucket + "/" + obj.Key, surfaceAsIs: true);
            string e = (etag ?? "").Trim('"');
            if (e.Length == 32 && e.IndexOf('-') < 0 && !string.Equals(e, HashingStream.Hex(md5), StringComparison.OrdinalIgnoreCase))
                throw new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData, $"{bucket}/{obj.Key}: the MD5 of the bytes read does not match its ETag.", bucket + "/" + obj.Key, surfaceAsIs: true);
        }


        /// <summary>Streams a command's stdout into one payload. GNU tar's exit 1 ("file changed as we read it") is a warning.</summary>
        internal static long StreamCommand(IRemoteShell sh, string what, string script, string payload, BackupArchiveWriter writer, IOperationContext ctx, bool tarWarnings)
        {
            var stderr = new MemoryStream();
            int code = 0;
            long bytes = 0;
            var progress = new ProgressReporter(ctx, $"Copying {what} from {sh.Node}", -1);
            writer.AddPayload(payload, sink =>
            {
                var counting = new CountingSink(sink, n => { bytes += n; progress.Report(bytes); });
                code = sh.Run(script, null, counting, Stream.Synchronized(stderr), ctx.Cancellation);
            });
            string err = Encoding.UTF8.GetString(stderr.ToArray());
            if (code == 1 && tarWarnings)
                ctx.WriteWarning($"{what} on {sh.Node}: files changed while they were read (GNU tar exit 1); the copy holds what was read: {DeisStore.Tail(err)}");
            else if (code != 0) throw ShellExtensions.Failed(sh, what, code, err);
            progress.Complete();
            ctx.WriteVerbose($"Copied {what} from {sh.Node}: {bytes} bytes.");
            return bytes;
        }

        private sealed class CountingSink : WriteOnlyStream
        {
            private readonly Stream _inner;
            private readonly Action<int> _count;
            public CountingSink(Stream inner, Action<int> count) { _inner = inner; _count = count; }
            public override void Write(byte[] buffer, int offset, int count) { _inner.Write(buffer, offset, count); _count(count); }
            public override void Flush() => _inner.Flush();
        }
    }
}
