using System;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;

namespace ClusterDR.Stores
{
    /// <summary>The one mapping of an S3 store's failures to the stores' ErrorIds; messages name the s3:// URI and endpoint, never a key.</summary>
    internal static class S3StoreErrors
    {
        public static ClusterDrException Map(Exception ex, S3Store store, string what, string key)
        {
            if (ex is AggregateException ag && ag.InnerExceptions.Count > 0) ex = ag.InnerExceptions[0];
            if (ex is ClusterDrException cd) return cd;
            string target = key == null ? store.Location : store.Describe(key);
            string at = $"{target} (endpoint {store.Endpoint})";
            if (ex is AmazonS3Exception s3)
            {
                string code = s3.ErrorCode ?? ((int)s3.StatusCode).ToString();
                if (s3.ErrorCode == "NoSuchBucket") return NoBucket(store, ex);
                if (s3.ErrorCode == "InvalidAccessKeyId" || s3.ErrorCode == "SignatureDoesNotMatch" || s3.ErrorCode == "AccessDenied" ||
                    s3.StatusCode == HttpStatusCode.Forbidden || s3.StatusCode == HttpStatusCode.Unauthorized)
                    return new ClusterDrException(ErrorIds.StoreAccessDenied, ErrorKind.PermissionDenied,
                        $"{what} {at}: the S3 service refused the credential ({code}). Check the access key and secret key, and that they may use bucket {store.Bucket}.",
                        target, ex, surfaceAsIs: true);
                if (s3.ErrorCode == "QuotaExceeded" || s3.ErrorCode == "EntityTooLarge" || (int)s3.StatusCode == 507)
                    return new ClusterDrException(ErrorIds.StoreQuotaExceeded, ErrorKind.WriteError,
                        $"{what} {at}: the store is full or over its quota ({code}); nothing was stored.", target, ex, surfaceAsIs: true);
                if (s3.ErrorCode == null && IsNoAnswer(s3.InnerException))
                    return Unreachable(store, what, at, target, ex);
                return new ClusterDrException(ErrorIds.StoreError, ErrorKind.InvalidOperation,
                    $"{what} {at}: the S3 service answered {(int)s3.StatusCode} {code}.", target, ex, surfaceAsIs: true);
            }
            if (ex is AmazonClientException && ex.Message.IndexOf("credential", StringComparison.OrdinalIgnoreCase) >= 0)
                return new ClusterDrException(ErrorIds.StoreCredentialsMissing, ErrorKind.InvalidArgument,
                    $"{what} {at}: no S3 credential was given (-Credential) and none was found in the environment, an AWS profile or an instance role.", target, ex, surfaceAsIs: true);
            if (IsNoAnswer(ex) || ex is AmazonServiceException || ex is AmazonClientException)
                return Unreachable(store, what, at, target, ex);
            return new ClusterDrException(ErrorIds.StoreError, ErrorKind.InvalidOperation, $"{what} {at} failed: {ex.GetType().Name}.", target, ex, surfaceAsIs: true);
        }

        public static ClusterDrException NoBucket(S3Store store, Exception ex) =>
            new ClusterDrException(ErrorIds.StoreNotFound, ErrorKind.ObjectNotFound,
                $"The S3 bucket {store.Bucket} does not exist at {store.Endpoint}. Create it first (or check -Bucket and -Endpoint).", store.Location, ex, surfaceAsIs: true);

        private static ClusterDrException Unreachable(S3Store store, string what, string at, string target, Exception ex) =>
            new ClusterDrException(ErrorIds.StoreUnreachable, ErrorKind.ConnectionError,
                $"{what} {at}: the S3 endpoint cannot be reached ({Transport.HttpErrors.Why(Innermost(ex))}).", target, ex, surfaceAsIs: true);

        private static bool IsNoAnswer(Exception ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
                if (e is System.Net.Http.HttpRequestException || e is System.Net.Sockets.SocketException || e is WebException || e is System.IO.IOException || e is TimeoutException)
                    return true;
            return false;
        }

        private static Exception Innermost(Exception ex)
        {
            while (ex.InnerException != null) ex = ex.InnerException;
            return ex;
        }
    }
}
