using System;
using System.Management.Automation;
using ClusterDR.Etcd;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Replaces one lost etcd member while the rest of the cluster is healthy: member remove, move its
    /// data dir aside, member add, start it with initial-cluster-state existing. Refuses a healthy
    /// member and any repair whose removal would cost quorum; there is no override.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Repair, "EtcdMember", HelpUri = DocsUri.Base + "Repair-EtcdMember.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(RestoreResult))]
    public sealed class RepairEtcdMemberCommand : EtcdCmdletBase
    {
        /// <summary>Client URLs of the healthy members.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [Alias("ClientUrl", "Endpoints")]
        public Uri[] Endpoint { get; set; }

        /// <summary>The lost member: Name, Node, PeerUrl, ClientUrl, DataDir, and Unit or StartCommand/StopCommand.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public EtcdMemberSpec Member { get; set; }

        [Parameter]
        [ValidateRange(5, 3600)]
        public int WaitTimeoutSec { get; set; } = 120;

        /// <summary>Add the member although the cluster lists no member of that name or peer URL (it was removed earlier). Never overrides the quorum or healthy-member refusals.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            var result = EtcdRepair.Run(new EtcdRepairRequest
            {
                Endpoints = Endpoint,
                Member = Member,
                Force = Force,
                Ssh = Ssh(),
                Tls = Tls(),
                WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec),
            }, Context);
            if (result != null) WriteObject(result);
        });
    }
}
