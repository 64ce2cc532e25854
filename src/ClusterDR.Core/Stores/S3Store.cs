using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;

namespace ClusterDR.Stores
{
    /// <summary>
    /// Backups in an S3 bucket (AWS, Ceph radosgw, MinIO), signed with SigV4 by AWSSDK.S3, over Transport's HTTP layer.
    /// Uploads are multipart: parts go up as the backup is read, the first (with the manifest) last, and
    /// CompleteMultipartUpload publishes the object at once; an abandoned upload is aborted.
    /// </summary>
    public sealed class S3Store : RemoteStore
    {
        private readonly AmazonS3Client _client;
        private readonly Uri _endpoint;

        private S3Store(S3StoreOptions o, AmazonS3Client client, Uri endpoint)
        {
            Bucket = o.Bucket;
            Prefix = NormalizePrefix(o.Prefix);
            Region = o.Region;
            _client = client;
            _endpoint = endpoint;
        }

        public string Bucket { get; }
        public string Region { get; }
        /// <summary>The endpoint requests go to.</summary>
        public Uri Endpoint => _endpoint;
        public override string Kind => "S3";
        public override string Prefix { get; }
        public override string Location => "s3://" + Bucket + "/" + Prefix;
        public override string Describe(string key) => "s3://" + Bucket + "/" + key;

        /// <summary>Keys per listing page (S3's own maximum is 1000).</summary>
        internal int PageSize { get; set; } = 1000;

        internal static string NormalizePrefix(string prefix)
        {
            string p = (prefix ?? "").Replace('\\', '/').Trim('/');
            return p.Length == 0 ? "" : p + "/";
        }

        /// <summary>Checks the options and makes the client; nothing is sent until the store is used.</summary>
        public static S3Store Create(S3StoreOptions o)
        {
            if (o == null || string.IsNullOrWhiteSpace(o.Bucket))
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument, "The S3 bucket is missing (-Bucket).");
            if (o.Endpoint != null && (!o.Endpoint.IsAbsoluteUri || (o.Endpoint.Scheme != "http" && o.Endpoint.Scheme != "https")))
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument,
                    $"'{o.Endpoint.OriginalString}' is not an S3 endpoint: give http:// or https:// and the host, such as https://minio.example.com:9000.", o.Endpoint.OriginalString);
            string region = string.IsNullOrWhiteSpace(o.Region) ? "us-east-1" : o.Region;
            var config = new AmazonS3Config
            {
                ForcePathStyle = o.ForcePathStyle,
                RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
                ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
                MaxErrorRetry = 3,
                Timeout = TimeSpan.FromMinutes(10),
            };
            Uri endpoint;
            if (o.Endpoint != null)
            {
                config.ServiceURL = o.Endpoint.ToString();
                config.AuthenticationRegion = region;
                config.UseHttp = o.Endpoint.Scheme == "http";
                endpoint = o.Endpoint;
            }
            else
            {
                config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
                endpoint = new Uri($"https://s3.{region}.amazonaws.com");
            }
            config.HttpClientFactory = new Deis.S3HttpClientFactory(null, null, 16);
            var client = new AmazonS3Client(Credentials(o), config);
            Deis.DeisStore.Traced(client, endpoint);
            return new S3Store(o, client, endpoint);
        }

        /// <summary>The keys given, else the named profile, else the SDK's chain (environment, profile "default" or AWS_PROFILE, instance role).</summary>
        private static AWSCredentials Credentials(S3StoreOptions o)
        {
            if (!string.IsNullOrEmpty(o.AccessKey))
            {
                if (o.SecretKey == null)
                    throw new ClusterDrException(ErrorIds.StoreCredentialsMissing, ErrorKind.InvalidArgument, $"The S3 secret key for access key {o.AccessKey} is missing: give -Credential with the secret key as password.");
                return o.SessionToken == null
                    ? (AWSCredentials)new BasicAWSCredentials(o.AccessKey, Secrets.Plain(o.SecretKey))
                    : new SessionAWSCredentials(o.AccessKey, Secrets.Plain(o.SecretKey), Secrets.Plain(o.SessionToken));
            }
            if (!string.IsNullOrEmpty(o.ProfileName))
            {
                if (new CredentialProfileStoreChain().TryGetAWSCredentials(o.ProfileName, out var profile)) return profile;
                throw new ClusterDrException(ErrorIds.StoreCredentialsMissing, ErrorKind.ObjectNotFound,
                    $"No AWS profile named '{o.ProfileName}' in the shared credentials or config file.", o.ProfileName);
            }
            try { return Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials(null); }
            catch (Exception ex) when (!(ex is ClusterDrException))
            {
                throw new ClusterDrException(ErrorIds.StoreCredentialsMissing, ErrorKind.InvalidArgument,
                    "No S3 credential was given (-Credential) and none was found in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an AWS profile or an instance role.", null, ex);
            }
        }

        private T Call<T>(string what, string key, Func<System.Threading.Tasks.Task<T>> call)
        {
            try { return call().GetAwaiter().GetResult(); }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { throw S3StoreErrors.Map(ex, this, what, key); }
        }

        internal override IEnumerable<StoreObject> List(string prefix, bool recurse, CancellationToken ct)
        {
            var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix ?? Prefix, Delimiter = recurse ? null : "/", MaxKeys = PageSize };
            while (true)
            {
                var page = Call("Listing", request.Prefix, () => _client.ListObjectsV2Async(request, ct));
                foreach (var o in page.S3Objects ?? new List<S3Object>())
                    yield return new StoreObject(o.Key, o.Size ?? 0, (o.LastModified ?? DateTime.MinValue).ToUniversalTime());
                if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken)) yield break;
                request.ContinuationToken = page.NextContinuationToken;
            }
        }

        internal override StoreObject Stat(string key, CancellationToken ct)
        {
            try
            {
                var m = _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, ct).GetAwaiter().GetResult();
                return new StoreObject(key, m.ContentLength, (m.LastModified ?? DateTime.MinValue).ToUniversalTime());
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
            {
                // A HEAD has no body: a missing bucket answers 404 as well, and says so only when asked with a listing.
                if (!BucketExists(ct)) throw S3StoreErrors.NoBucket(this, ex);
                return null;
            }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { throw S3StoreErrors.Map(ex, this, "Reading", key); }
        }

        private bool BucketExists(CancellationToken ct)
        {
            try
            {
                _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, MaxKeys = 1 }, ct).GetAwaiter().GetResult();
                return true;
            }
            catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchBucket") { return false; }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { throw S3StoreErrors.Map(ex, this, "Listing", null); }
        }

        internal override Stream OpenRead(string key, long offset, long? count, CancellationToken ct)
        {
            if (count == 0) return new MemoryStream(new byte[0], false);
            var request = new GetObjectRequest { BucketName = Bucket, Key = key };
            if (count != null) request.ByteRange = new ByteRange(offset, offset + count.Value - 1);
            else if (offset > 0) request.ByteRange = new ByteRange($"bytes={offset}-");
            GetObjectResponse response;
            try { response = _client.GetObjectAsync(request, ct).GetAwaiter().GetResult(); }
            catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchKey")
            {
                throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup archive at '{Describe(key)}'.", Describe(key), ex);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { throw S3StoreErrors.Map(ex, this, "Reading", key); }
            return new ResponseStream(response);
        }

        internal override IMultipartUpload StartMultipart(string key, CancellationToken ct) => new Upload(this, key, ct);

        internal override void Delete(string key, CancellationToken ct) =>
            Call("Deleting", key, () => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, ct));

        internal override void EnsureContainer(CancellationToken ct)
        {
            if (BucketExists(ct)) return;
            Call("Creating the bucket", null, () => _client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket, UseClientRegion = true }, ct));
        }

        /// <summary>Multipart uploads not completed under <paramref name="key"/> (tests prove an abandoned one is aborted).</summary>
        internal int PendingUploads(string key) =>
            Call("Listing uploads", key, () => _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = key })).MultipartUploads?.Count ?? 0;

        /// <summary>The body of one GET; disposing it closes the response.</summary>
        private sealed class ResponseStream : Backups.ReadOnlyStream
        {
            private readonly GetObjectResponse _response;
            private readonly Stream _body;
            public ResponseStream(GetObjectResponse response) { _response = response; _body = response.ResponseStream; }
            public override int Read(byte[] buffer, int offset, int count) => _body.Read(buffer, offset, count);
            protected override void Dispose(bool disposing)
            {
                if (disposing) { _body.Dispose(); _response.Dispose(); }
                base.Dispose(disposing);
            }
        }

        private sealed class Upload : IMultipartUpload
        {
            private readonly S3Store _store;
            private readonly string _key;
            private readonly CancellationToken _ct;
            private readonly ConcurrentDictionary<int, string> _etags = new ConcurrentDictionary<int, string>();
            private readonly string _uploadId;
            private bool _done;

            public Upload(S3Store store, string key, CancellationToken ct)
            {
                _store = store;
                _key = key;
                _ct = ct;
                _uploadId = store.Call("Starting the upload", key, () => store._client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = key }, ct)).UploadId;
            }

            public void UploadPart(int partNumber, byte[] data, int count, CancellationToken ct)
            {
                var r = _store.Call("Uploading", _key, () => _store._client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _store.Bucket, Key = _key, UploadId = _uploadId, PartNumber = partNumber,
                    InputStream = new MemoryStream(data, 0, count, false), PartSize = count,
                }, ct));
                _etags[partNumber] = r.ETag;
            }

            public void Complete(int partCount, CancellationToken ct)
            {
                // S3 can refuse to overwrite (If-None-Match: *), but gateways such as radosgw 16 ignore it: ask first too.
                if (_store.Stat(_key, ct) != null) throw Exists();
                var request = new CompleteMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = _uploadId, IfNoneMatch = "*" };
                request.AddPartETags(Enumerable.Range(1, partCount).Select(n => new PartETag(n, _etags[n])));
                try { _store._client.CompleteMultipartUploadAsync(request, ct).GetAwaiter().GetResult(); }
                catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed || ex.ErrorCode == "ConditionalRequestConflict") { throw Exists(); }
                catch (Exception ex) when (!(ex is OperationCanceledException)) { throw S3StoreErrors.Map(ex, _store, "Finishing the upload", _key); }
                _done = true;
            }

            private ClusterDrException Exists() =>
                new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists,
                    $"Another backup named '{_store.Describe(_key)}' was stored first, while this one was being written; that backup is kept as it is and this upload was abandoned, so nothing was lost.",
                    _store.Describe(_key), surfaceAsIs: true);

            public void Dispose()
            {
                if (_done) return;
                _done = true;
                try
                {
                    _store._client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = _uploadId }, CancellationToken.None)
                        .GetAwaiter().GetResult();
                }
                catch { } // best effort: a bucket lifecycle rule ends what a lost connection left
            }
        }
    }
}
