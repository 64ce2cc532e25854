using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Amazon.S3;
using Amazon.S3.Model;
using ClusterDR.Backups;
using ClusterDR.Safety;

namespace ClusterDR.Deis
{
    /// <summary>An object staged on local disk for upload: its size, MD5 and the MD5 of each part when it goes up in parts.</summary>
    internal sealed class StagedObject
    {
        public string Bucket { get; set; }
        public string Key { get; set; }
        public string File { get; set; }
        public long Size { get; set; }
        public byte[] Md5 { get; set; }
        /// <summary>Bytes per part; 0 when the object goes up in one PUT.</summary>
        public long PartSize { get; set; }
        public List<byte[]> PartMd5 { get; } = new List<byte[]>();

        public string Md5Hex => HashingStream.Hex(Md5);

        /// <summary>The ETag S3 gives the object as uploaded here: its MD5, or for a multi-part upload MD5(part MD5s)-parts.</summary>
        public string ExpectedETag => PartSize == 0 ? Md5Hex : DeisS3Transfer.MultipartETag(PartMd5);

        /// <summary>The SHA-256 the manifest records for the object.</summary>
        public string Sha256 { get; set; }

        /// <summary>
        /// Whether an object already in the gateway has these bytes: by size and ETag, and when its ETag is
        /// a multi-part one from other part sizes, by reading it and comparing its SHA-256.
        /// </summary>
        public async Task<bool> SameAs(AmazonS3Client s3, S3Object existing, CancellationToken ct)
        {
            if (existing.Size != Size) return false;
            string e = (existing.ETag ?? "").Trim('"');
            if (string.Equals(e, Md5Hex, StringComparison.OrdinalIgnoreCase)) return true;
            if (PartSize > 0 && string.Equals(e, ExpectedETag, StringComparison.OrdinalIgnoreCase)) return true;
            if (e.IndexOf('-') < 0) return false;
            using (var r = await s3.GetObjectAsync(Bucket, Key, ct).ConfigureAwait(false))
            using (var sha = SHA256.Create())
            {
                var buf = new byte[1 << 16];
                int n;
                long read = 0;
                while ((n = await r.ResponseStream.ReadAsync(buf, 0, buf.Length, ct).ConfigureAwait(false)) > 0) { sha.TransformBlock(buf, 0, n, null, 0); read += n; }
                sha.TransformFinalBlock(new byte[0], 0, 0);
                return read == Size && string.Equals(HashingStream.Hex(sha.Hash), Sha256, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    /// <summary>Uploads (one PUT or multi-part, each part with its Content-MD5, checked by HEAD) and server-side copies.</summary>
    internal static class DeisS3Transfer
    {
        /// <summary>S3's limit for one CopyObject; bigger objects are copied in parts.</summary>
        public const long MaxSingleCopy = 5L * 1024 * 1024 * 1024;

        /// <summary>The part size for an object: the configured size, grown so that no object needs more than 10,000 parts.</summary>
        public static long PartSizeFor(long size, long configured)
        {
            long part = Math.Max(5L * 1024 * 1024, configured);
            while ((size + part - 1) / part > 10000) part *= 2;
            return part;
        }

        public static string MultipartETag(IList<byte[]> partMd5)
        {
            using (var md5 = MD5.Create())
            {
                foreach (var p in partMd5) md5.TransformBlock(p, 0, p.Length, null, 0);
                md5.TransformFinalBlock(new byte[0], 0, 0);
                return HashingStream.Hex(md5.Hash) + "-" + partMd5.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        /// <summary>Copies <paramref name="content"/> into <paramref name="file"/>, hashing the whole and (when <paramref name="partSize"/> &gt; 0) each part.</summary>
        public static void Stage(Stream content, string file, StagedObject o, long partSize)
        {
            o.File = file;
            o.PartSize = partSize;
            using (var f = new FileStream(file, FileMode.CreateNew, FileAccess.Write))
            using (var whole = MD5.Create())
            {
                MD5 part = partSize > 0 ? MD5.Create() : null;
                long inPart = 0, total = 0;
                var buf = new byte[1 << 16];
                int n;
                while ((n = content.Read(buf, 0, buf.Length)) > 0)
                {
                    f.Write(buf, 0, n);
                    whole.TransformBlock(buf, 0, n, null, 0);
                    total += n;
                    int off = 0;
                    while (part != null && off < n)
                    {
                        int take = (int)Math.Min(n - off, partSize - inPart);
                        part.TransformBlock(buf, off, take, null, 0);
                        off += take;
                        inPart += take;
                        if (inPart == partSize)
                        {
                            part.TransformFinalBlock(new byte[0], 0, 0);
                            o.PartMd5.Add(part.Hash);
                            part.Dispose();
                            part = MD5.Create();
                            inPart = 0;
                        }
                    }
                }
                if (part != null)
                {
                    if (inPart > 0 || o.PartMd5.Count == 0) { part.TransformFinalBlock(new byte[0], 0, 0); o.PartMd5.Add(part.Hash); }
                    part.Dispose();
                }
                whole.TransformFinalBlock(new byte[0], 0, 0);
                o.Md5 = whole.Hash;
                o.Size = total;
            }
        }

        /// <summary>Uploads a staged object and checks it with HEAD (size and ETag). A multi-part upload that fails is aborted.</summary>
        public static async Task Upload(AmazonS3Client s3, StagedObject o, CancellationToken ct)
        {
            if (o.PartSize == 0)
            {
                using (var f = new FileStream(o.File, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous))
                    await s3.PutObjectAsync(new PutObjectRequest
                    {
                        BucketName = o.Bucket, Key = o.Key, InputStream = f, MD5Digest = Convert.ToBase64String(o.Md5), AutoCloseStream = false, UseChunkEncoding = false,
                    }, ct).ConfigureAwait(false);
            }
            else
            {
                var init = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = o.Bucket, Key = o.Key }, ct).ConfigureAwait(false);
                try
                {
                    var etags = new List<PartETag>();
                    for (int i = 0; i < o.PartMd5.Count; i++)
                    {
                        long off = i * o.PartSize, len = Math.Min(o.PartSize, o.Size - off);
                        var r = await s3.UploadPartAsync(new UploadPartRequest
                        {
                            BucketName = o.Bucket, Key = o.Key, UploadId = init.UploadId, PartNumber = i + 1,
                            FilePath = o.File, FilePosition = off, PartSize = len, MD5Digest = Convert.ToBase64String(o.PartMd5[i]), UseChunkEncoding = false,
                        }, ct).ConfigureAwait(false);
                        etags.Add(new PartETag(i + 1, r.ETag));
                    }
                    await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = o.Bucket, Key = o.Key, UploadId = init.UploadId, PartETags = etags }, ct).ConfigureAwait(false);
                }
                catch
                {
                    try { await s3.AbortMultipartUploadAsync(o.Bucket, o.Key, init.UploadId, CancellationToken.None).ConfigureAwait(false); } catch { }
                    throw;
                }
            }
            var head = await s3.GetObjectMetadataAsync(o.Bucket, o.Key, ct).ConfigureAwait(false);
            string etag = (head.ETag ?? "").Trim('"');
            if (head.ContentLength != o.Size || !string.Equals(etag, o.ExpectedETag, StringComparison.OrdinalIgnoreCase))
                throw new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData,
                    $"{o.Bucket}/{o.Key}: after the upload the gateway reports {head.ContentLength} bytes, ETag {etag}; expected {o.Size} bytes, ETag {o.ExpectedETag}.", o.Bucket + "/" + o.Key, surfaceAsIs: true);
        }

        /// <summary>A server-side copy inside the gateway (CopyObject, or part by part above <paramref name="partSize"/>); checked by size.</summary>
        public static async Task Copy(AmazonS3Client s3, string bucket, string fromKey, string toKey, long size, long partSize, CancellationToken ct)
        {
            partSize = Math.Min(Math.Max(5L * 1024 * 1024, partSize), MaxSingleCopy);
            if (size <= partSize)
                await s3.CopyObjectAsync(new CopyObjectRequest { SourceBucket = bucket, SourceKey = fromKey, DestinationBucket = bucket, DestinationKey = toKey }, ct).ConfigureAwait(false);
            else
            {
                var head = await s3.GetObjectMetadataAsync(bucket, fromKey, ct).ConfigureAwait(false);
                var init = new InitiateMultipartUploadRequest { BucketName = bucket, Key = toKey, ContentType = head.Headers.ContentType };
                foreach (var k in head.Metadata.Keys) init.Metadata.Add(k, head.Metadata[k]);
                var up = await s3.InitiateMultipartUploadAsync(init, ct).ConfigureAwait(false);
                try
                {
                    var etags = new List<PartETag>();
                    int n = 1;
                    for (long off = 0; off < size; off += partSize, n++)
                    {
                        var r = await s3.CopyPartAsync(new CopyPartRequest
                        {
                            SourceBucket = bucket, SourceKey = fromKey, DestinationBucket = bucket, DestinationKey = toKey, UploadId = up.UploadId,
                            PartNumber = n, FirstByte = off, LastByte = Math.Min(size, off + partSize) - 1,
                        }, ct).ConfigureAwait(false);
                        etags.Add(new PartETag(n, r.ETag));
                    }
                    await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = toKey, UploadId = up.UploadId, PartETags = etags }, ct).ConfigureAwait(false);
                }
                catch
                {
                    try { await s3.AbortMultipartUploadAsync(bucket, toKey, up.UploadId, CancellationToken.None).ConfigureAwait(false); } catch { }
                    throw;
                }
            }
            var check = await s3.GetObjectMetadataAsync(bucket, toKey, ct).ConfigureAwait(false);
            if (check.ContentLength != size)
                throw new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.InvalidData,
                    $"{bucket}/{toKey}: the server-side copy of {bucket}/{fromKey} holds {check.ContentLength} bytes, not {size}.", bucket + "/" + toKey, surfaceAsIs: true);
        }
    }

    /// <summary>
    /// What a restore changed in the gateway, recorded before each change, so that its undo can put the
    /// buckets back exactly: objects it created are deleted, objects it overwrote are copied back from
    /// where they were moved aside (and that copy removed), buckets it created are deleted. Objects that
    /// were there before and were not overwritten are never touched.
    /// </summary>
    internal sealed class DeisRestoreJournal : IDisposable
    {
        // One line per object the restore uploaded, in a private temporary file: a restore of 100,000 objects keeps none in memory.
        private readonly object _createdGate = new object();
        private TempLines _created = new TempLines("deis-created");
        private readonly ConcurrentQueue<(string Bucket, string Key, string Aside, long Size)> _moved = new ConcurrentQueue<(string, string, string, long)>();
        private readonly List<string> _buckets = new List<string>();

        public void CreatedBucket(string bucket) { lock (_buckets) _buckets.Add(bucket); }
        public void CreatedObject(string bucket, string key) { lock (_createdGate) _created.Add(Newtonsoft.Json.JsonConvert.SerializeObject(new[] { bucket, key })); }
        public void MovedAside(string bucket, string key, string aside, long size) => _moved.Enqueue((bucket, key, aside, size));

        public IEnumerable<(string Bucket, string Key, string Aside, long Size)> Moved => _moved;
        public IReadOnlyList<string> CreatedBuckets { get { lock (_buckets) return _buckets.ToList(); } }

        /// <summary>Deletes the objects the restore created and puts back the ones it overwrote. Returns what it did; throws listing what it could not undo.</summary>
        public string UndoObjects(AmazonS3Client s3, DeisS3Options o, IOperationContext ctx)
        {
            var ct = CancellationToken.None; // an undo runs to the end, also after Ctrl+C
            var failed = new List<string>();
            int deleted = 0, putBack = 0;
            while (_moved.TryDequeue(out var m))
            {
                try
                {
                    DeisStore.S3(o, $"Putting back {m.Bucket}/{m.Key}", async () =>
                    {
                        await DeisS3Transfer.Copy(s3, m.Bucket, m.Aside, m.Key, m.Size, o.CopyPartSize, ct).ConfigureAwait(false);
                        await s3.DeleteObjectAsync(m.Bucket, m.Aside, ct).ConfigureAwait(false);
                        return 0;
                    }, m.Bucket + "/" + m.Key);
                    putBack++;
                }
                catch (Exception ex)
                {
                    failed.Add($"{m.Bucket}/{m.Key} (its old content is kept at {m.Bucket}/{m.Aside}): {ex.Message}");
                }
            }
            TempLines created;
            lock (_createdGate) { created = _created; _created = new TempLines("deis-created"); }
            using (created)
                foreach (var line in created.Lines())
                {
                    var c = Newtonsoft.Json.JsonConvert.DeserializeObject<string[]>(line);
                    try
                    {
                        DeisStore.S3(o, $"Deleting {c[0]}/{c[1]}", () => s3.DeleteObjectAsync(c[0], c[1], ct), c[0] + "/" + c[1]);
                        deleted++;
                    }
                    catch (Exception ex) { failed.Add($"{c[0]}/{c[1]}: {ex.Message}"); }
                }
            string done = $"removed {deleted} object(s) the restore had uploaded and put back {putBack} object(s) it had overwritten";
            ctx.WriteVerbose($"Restore-DeisStore undo: {done}.");
            if (failed.Count > 0)
                throw new ClusterDrException(ErrorIds.S3Error, ErrorKind.InvalidOperation,
                    $"The undo {done}, but could not undo {failed.Count} object(s): {string.Join("; ", failed.Take(20))}{(failed.Count > 20 ? "; …" : "")}", o.GatewayUri);
            return done;
        }

        public void Dispose() { lock (_createdGate) _created.Dispose(); }

        /// <summary>Deletes the buckets the restore created (they are empty again once <see cref="UndoObjects"/> ran); throws listing the ones it could not delete.</summary>
        public string UndoBuckets(AmazonS3Client s3, DeisS3Options o)
        {
            var gone = new List<string>();
            var failed = new List<string>();
            foreach (var b in CreatedBuckets)
            {
                try { DeisStore.S3(o, $"Deleting bucket {b}", () => s3.DeleteBucketAsync(b, CancellationToken.None)); gone.Add(b); }
                catch (Exception ex) { failed.Add($"{b}: {ex.Message}"); }
            }
            lock (_buckets) _buckets.RemoveAll(gone.Contains);
            string done = gone.Count == 0 ? "no bucket was deleted" : "deleted bucket(s) " + string.Join(", ", gone) + " that the restore had created";
            if (failed.Count > 0)
                throw new ClusterDrException(ErrorIds.S3Error, ErrorKind.InvalidOperation, $"The undo {done}, but could not delete {string.Join("; ", failed)}", o.GatewayUri);
            return done;
        }
    }
}
