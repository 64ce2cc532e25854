using System;
using System.Collections.Generic;
using Newtonsoft.Json;

namespace ClusterDR.Backups
{
    /// <summary>
    /// manifest.json, the first entry of every backup archive: enough to list, check and restore a
    /// backup without reading its payload. Field names are the archive format: never rename one.
    /// </summary>
    public sealed class BackupManifest
    {
        /// <summary>The newest version this ClusterDR reads. It writes 1, or <see cref="PayloadIndex.FormatVersion"/> for a backup with a payload index.</summary>
        public const int CurrentFormatVersion = 2;
        public const string EntryName = "manifest.json";

        [JsonProperty("formatVersion")] public int FormatVersion { get; set; } = 1;
        /// <summary>etcd, swarm, zookeeper, deis-store …</summary>
        [JsonProperty("kind")] public string Kind { get; set; }
        [JsonProperty("cluster")] public string Cluster { get; set; }
        [JsonProperty("label")] public string Label { get; set; }
        [JsonProperty("createdUtc")] public DateTime CreatedUtc { get; set; }
        [JsonProperty("toolVersion")] public string ToolVersion { get; set; }
        [JsonProperty("sourceNodes")] public List<string> SourceNodes { get; set; } = new List<string>();
        [JsonProperty("files")] public List<ManifestFile> Files { get; set; } = new List<ManifestFile>();
        /// <summary>Platform facts (etcd revision, member and cluster ids, swarm node id …), all as strings.</summary>
        [JsonProperty("facts")] public Dictionary<string, string> Facts { get; set; } = new Dictionary<string, string>();
        /// <summary>Where the files not listed in <see cref="Files"/> are listed (absent in most backups, and in those written before it existed).</summary>
        [JsonProperty("index", NullValueHandling = NullValueHandling.Ignore)] public PayloadIndexInfo Index { get; set; }

        public string Fact(string name) => Facts != null && Facts.TryGetValue(name, out var v) ? v : null;

        public static string ToolVersionString =>
            typeof(BackupManifest).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    }

    public sealed class ManifestFile
    {
        /// <summary>Path inside the archive, '/'-separated, relative.</summary>
        [JsonProperty("path")] public string Path { get; set; }
        [JsonProperty("size")] public long Size { get; set; }
        /// <summary>Lower-case hex SHA-256 of the content.</summary>
        [JsonProperty("sha256")] public string Sha256 { get; set; }

        public override string ToString() => $"{Path} ({Size} bytes)";
    }
}
