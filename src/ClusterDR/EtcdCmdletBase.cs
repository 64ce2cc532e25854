using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using ClusterDR.Etcd;

namespace ClusterDR.Commands
{
    /// <summary>TLS parameters shared by the etcd cmdlets (etcdctl's --cacert/--cert/--key), on top of the node options.</summary>
    public abstract class EtcdCmdletBase : NodeCmdletBase
    {
        /// <summary>PEM bundle of the CA(s) that sign the etcd servers' certificates.</summary>
        [Parameter]
        [Alias("CACert")]
        public string CaCertificatePath { get; set; }

        /// <summary>PEM client certificate (with -ClientKeyPath); PowerShell 7 only.</summary>
        [Parameter]
        [Alias("Cert")]
        public string ClientCertificatePath { get; set; }

        /// <summary>PEM private key of the client certificate.</summary>
        [Parameter]
        [Alias("Key")]
        public string ClientKeyPath { get; set; }

        /// <summary>A client certificate with its private key (Get-PfxCertificate, Cert: drive).</summary>
        [Parameter]
        public X509Certificate2 ClientCertificate { get; set; }

        /// <summary>TLS files on this machine, for talking to etcd from here.</summary>
        protected EtcdTlsOptions Tls() => new EtcdTlsOptions
        {
            CaCertificatePath = CaCertificatePath == null ? null : FileSystemPath(CaCertificatePath),
            ClientCertificatePath = ClientCertificatePath == null ? null : FileSystemPath(ClientCertificatePath),
            ClientKeyPath = ClientKeyPath == null ? null : FileSystemPath(ClientKeyPath),
            ClientCertificate = ClientCertificate,
        };

        /// <summary>TLS files on a node, handed to etcdctl there as given; a certificate object cannot travel.</summary>
        protected EtcdTlsOptions NodeTls()
        {
            if (ClientCertificate != null)
                throw new ClusterDrException(ErrorIds.TlsConfiguration, ErrorKind.InvalidArgument,
                    "-ClientCertificate works with -Endpoint only; with -Node or -SshSession give -ClientCertificatePath and -ClientKeyPath as paths on that node.");
            return new EtcdTlsOptions { CaCertificatePath = CaCertificatePath, ClientCertificatePath = ClientCertificatePath, ClientKeyPath = ClientKeyPath };
        }
    }
}
