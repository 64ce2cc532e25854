using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ClusterDR.Etcd;

namespace ClusterDR.Commands
{
    /// <summary>The quorum status of an etcd cluster: members, health, leader, quorum size, fault tolerance.</summary>
    [Cmdlet(VerbsCommon.Get, "EtcdClusterStatus")]
    [OutputType(typeof(QuorumStatus))]
    public sealed class GetEtcdClusterStatusCommand : EtcdCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("ClientUrl", "Endpoints")]
        public Uri[] Endpoint { get; set; }

        /// <summary>Seconds to wait for each member's answer.</summary>
        [Parameter]
        [ValidateRange(1, 300)]
        public int TimeoutSec { get; set; } = 3;

        private readonly List<Uri> _endpoints = new List<Uri>();

        protected override void ProcessRecord() => _endpoints.AddRange(Endpoint);

        protected override void EndProcessing() => Run(() =>
        {
            var status = EtcdStatusReader.Read(_endpoints.Distinct(), Tls(), Cancellation, timeout: TimeSpan.FromSeconds(TimeoutSec));
            if (status.Members.All(m => m.Endpoint == null))
                throw new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError,
                    "No etcd member answered: " + string.Join("; ", status.Members.Select(m => m.Name + ": " + m.Problem)), string.Join(",", _endpoints));
            if (!status.HasQuorum) WriteWarning($"The etcd cluster has no quorum: {status}.");
            WriteObject(status);
        });
    }
}
