using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ClusterDR.Backups;

namespace ClusterDR.Commands
{
    /// <summary>Lists backup archives by reading their manifests only, newest first.</summary>
    [Cmdlet(VerbsCommon.Get, "ClusterBackup", HelpUri = DocsUri.Base + "Get-ClusterBackup.md", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class GetClusterBackupCommand : ClusterDrCmdlet
    {
        private const string PathSet = "Path", LiteralPathSet = "LiteralPath";

        /// <summary>Directories or archives; wildcards are expanded. Binds strings from the pipeline.</summary>
        [Parameter(Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
        public string[] Path { get; set; } = { "." };

        /// <summary>Directories or archives, taken exactly as written; binds ClusterBackup objects (FullName) and files (PSPath) from the pipeline.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        public string[] LiteralPath { get; set; }

        /// <summary>The store the backup is in (New-ClusterBackupStore): paths are then keys or URIs of its objects. Binds ClusterBackup objects' Store from the pipeline; without it, paths are files.</summary>
        // Bound from the pipeline in the -LiteralPath sets only: in the default -Path set a piped backup would bind
        // -Store by name first, and PowerShell would then take the object itself for -Path as a string.
        [Parameter(ParameterSetName = PathSet)]
        [Parameter(ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        public Stores.BackupStore Store { get; set; }


        /// <summary>Only backups of this kind (wildcards).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(BackupKindCompleter))]
        public string Kind { get; set; }

        /// <summary>Only backups of this cluster (wildcards).</summary>
        [Parameter]
        public string Cluster { get; set; }

        /// <summary>Only backups with this label (wildcards); a backup without a label matches none.</summary>
        [Parameter]
        public string Label { get; set; }

        [Parameter]
        public SwitchParameter Recurse { get; set; }

        // Engine errors are written per input; Run ends the cmdlet on anything else (UnexpectedError).
        protected override void ProcessRecord() => Run(() =>
        {
            bool literal = ParameterSetName == LiteralPathSet;
            var kind = Pattern(Kind);
            var cluster = Pattern(Cluster);
            var label = Pattern(Label);
            foreach (var given in literal ? LiteralPath : Path)
            {
                var found = new List<ClusterBackup>();
                try
                {
                    // A damaged or cut-off backup is news an operator must see; a foreign file is not.
                    Action<string, ClusterDrException> skipped = (file, ex) =>
                    {
                        if (ex.ErrorId == ErrorIds.ArchiveCorrupt) WriteWarning($"Leaving out {file}: {ex.Message}");
                        else WriteVerbose($"Skipping {file}: {ex.Message}");
                    };
                    if (Store is Stores.RemoteStore remote)
                    {
                        // A folder of the store, or one object: the store's own listing, manifests only.
                        string folder = remote.KeyOf(given);
                        found.AddRange(BackupCatalog.List(remote, remote.Describe(folder), Recurse, null, null, skipped, Cancellation));
                    }
                    else
                        foreach (var p in BackupPaths(given, literal))
                            found.AddRange(BackupCatalog.List(p, Recurse, null, null, skipped));
                }
                catch (ClusterDrException ex)
                {
                    WriteEngineError(ex);
                }
                // A wildcard names several files and directories: one list, newest first, each backup once.
                var selected = found
                    .Where(b => Matches(kind, b.Kind) && Matches(cluster, b.Cluster) && Matches(label, b.Label))
                    .GroupBy(b => b.Path, StringComparer.Ordinal).Select(g => g.First())
                    .OrderByDescending(b => b.CreatedUtc).ThenBy(b => b.Path, StringComparer.Ordinal);
                foreach (var b in selected) WriteObject(b);
            }
        });

        private static WildcardPattern Pattern(string value) => value == null ? null : new WildcardPattern(value, WildcardOptions.IgnoreCase);

        private static bool Matches(WildcardPattern pattern, string value) => pattern == null || value != null && pattern.IsMatch(value);
    }
}
