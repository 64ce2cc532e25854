using System;
using System.Collections.Generic;
using System.Linq;

namespace ClusterDR
{
    /// <summary>The states the DC/OS backup service reports for a backup, a restore and each component.</summary>
    public static class DcosStatus
    {
        public const string Unknown = "STATUS_UNKNOWN";
        public const string BackingUp = "STATUS_BACKING_UP";
        public const string Restoring = "STATUS_RESTORING";
        public const string Ready = "STATUS_READY";
        public const string Error = "STATUS_ERROR";
    }

    /// <summary>What a backup and a restore have in common as the service reports them: an id, a state, one state per component.</summary>
    public abstract class DcosStatusInfo
    {
        public string Id { get; set; }
        public string Status { get; set; }
        /// <summary>Component (marathon, …) → its state.</summary>
        public Dictionary<string, string> ComponentStatus { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);
        /// <summary>Component → the error text it reported, for components that reported one.</summary>
        public Dictionary<string, string> ComponentErrors { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);
        /// <summary>The DC/OS cluster URL; the Dcos cmdlets bind it from the pipeline.</summary>
        public Uri Uri { get; set; }

        /// <summary>Done: the whole and every component STATUS_READY.</summary>
        public bool IsReady => Status == DcosStatus.Ready && ComponentStatus.Values.All(s => s == DcosStatus.Ready);

        public string[] FailedComponents => ComponentStatus.Where(kv => kv.Value == DcosStatus.Error).Select(kv => kv.Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();

        public bool IsFailed => Status == DcosStatus.Error || FailedComponents.Length > 0;

        public override string ToString() => Id;
    }
}
