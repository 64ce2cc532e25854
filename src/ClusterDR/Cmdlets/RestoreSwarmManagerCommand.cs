using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Security;
using ClusterDR.Swarm;
using ClusterDR.Transport;

namespace ClusterDR.Commands
{
    /// <summary>Restores a manager backup onto one host and forces a new one-manager cluster from it.</summary>
    [Cmdlet(VerbsData.Restore, "SwarmManager", HelpUri = DocsUri.Base + "Restore-SwarmManager.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(RestoreResult))]
    public sealed class RestoreSwarmManagerCommand : SwarmDaemonCmdletBase
    {
        /// <summary>The backup archive; binds ClusterBackup objects from the pipeline.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        public string Path { get; set; }

        /// <summary>--advertise-addr of the new cluster.</summary>
        [Parameter]
        public string AdvertiseAddress { get; set; }

        /// <summary>--listen-addr of the new cluster.</summary>
        [Parameter]
        public string ListenAddress { get; set; }

        /// <summary>Restore onto a host that is an active member of a healthy swarm. Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly List<string> _paths = new List<string>();

        protected override void ProcessRecord() => _paths.Add(Path);

        protected override void EndProcessing() => Run(() =>
        {
            string path = SingleBackup(_paths);
            using (var sh = Shell())
            {
                var r = SwarmRestore.Run(new SwarmRestoreRequest
                {
                    BackupPath = path, Shell = sh, Options = Options(), AdvertiseAddress = AdvertiseAddress,
                    ListenAddress = ListenAddress, UnlockKey = UnlockKey, Force = Force,
                }, Context);
                if (r != null) WriteObject(r);
            }
        });
    }
}
