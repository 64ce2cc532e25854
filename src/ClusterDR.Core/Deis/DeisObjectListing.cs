using System;
using System.Collections.Generic;
using System.Threading;
using Amazon.S3;
using Amazon.S3.Model;
using ClusterDR.Backups;
using Newtonsoft.Json;

namespace ClusterDR.Deis
{
    /// <summary>
    /// The listing of the store's buckets, page by page into a private temporary file (bucket, key, size, ETag a line):
    /// a store of millions of objects is listed and then copied with memory flat. Totals are kept; the objects are read
    /// back one at a time, as often as needed.
    /// </summary>
    internal sealed class DeisObjectListing : IDisposable
    {
        private readonly TempLines _lines = new TempLines("deis-listing");

        public int Objects { get; private set; }
        public long Bytes { get; private set; }
        public Dictionary<string, int> PerBucket { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

        public static DeisObjectListing Of(AmazonS3Client s3, DeisS3Options o, CancellationToken ct)
        {
            var listing = new DeisObjectListing();
            try
            {
                foreach (var bucket in o.Buckets)
                {
                    listing.PerBucket[bucket] = 0;
                    DeisStoreBackup.ListPages(s3, o, bucket, ct, page =>
                    {
                        foreach (var x in page) listing.Add(bucket, x);
                    });
                }
                return listing;
            }
            catch
            {
                listing.Dispose();
                throw;
            }
        }

        private void Add(string bucket, S3Object x)
        {
            _lines.Add(JsonConvert.SerializeObject(new Line { B = bucket, K = x.Key, S = x.Size, E = x.ETag }, Formatting.None));
            Objects++;
            Bytes += x.Size ?? 0;
            PerBucket[bucket]++;
        }

        /// <summary>The listed objects in listing order, read from the file (one pass per call; not concurrently).</summary>
        public IEnumerable<(string Bucket, S3Object Obj)> Read()
        {
            foreach (var line in _lines.Lines())
            {
                var l = JsonConvert.DeserializeObject<Line>(line);
                yield return (l.B, new S3Object { Key = l.K, Size = l.S, ETag = l.E });
            }
        }

        public void Dispose() => _lines.Dispose();

        private sealed class Line
        {
            [JsonProperty("b")] public string B { get; set; }
            [JsonProperty("k")] public string K { get; set; }
            [JsonProperty("s")] public long? S { get; set; }
            [JsonProperty("e")] public string E { get; set; }
        }
    }
}
