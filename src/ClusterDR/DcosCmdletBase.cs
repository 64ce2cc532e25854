using System;
using System.Management.Automation;
using System.Security;
using ClusterDR.Dcos;

namespace ClusterDR.Commands
{
    /// <summary>The cluster URL, ACS token, TLS trust and wait options of the DC/OS backup cmdlets.</summary>
    public abstract class DcosCmdletBase : ClusterDrCmdlet
    {
        /// <summary>The DC/OS cluster URL (Admin Router); binds the Uri property of DC/OS backup objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("ClusterUrl")]
        public Uri Uri { get; set; }

        /// <summary>The ACS token, sent as "Authorization: token=…".</summary>
        [Parameter]
        public SecureString AcsToken { get; set; }

        /// <summary>PEM bundle of the CA that signs Admin Router's certificate.</summary>
        [Parameter]
        [Alias("CACert")]
        public string CaCertificatePath { get; set; }

        /// <summary>Poll until the service reports STATUS_READY (or an error).</summary>
        [Parameter]
        public SwitchParameter Wait { get; set; }

        [Parameter]
        [ValidateRange(1, 86400)]
        public int WaitTimeoutSec { get; set; } = 900;

        [Parameter]
        [ValidateRange(1, 300)]
        public int PollIntervalSec { get; set; } = 5;

        protected virtual DcosRequest Request() => new DcosRequest
        {
            Uri = Uri,
            AcsToken = AcsToken,
            CaCertificatePath = CaCertificatePath == null ? null : FileSystemPath(CaCertificatePath),
            Wait = Wait,
            WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec),
            PollInterval = TimeSpan.FromSeconds(PollIntervalSec),
        };
    }
}
