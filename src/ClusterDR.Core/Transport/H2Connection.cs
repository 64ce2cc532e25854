using System;
using System.Collections;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
namespace ClusterDR.Transport
{
    /// <summary>
    /// The byte stream an <see cref="H2Call"/> runs on: a TCP socket that is only ever used
    /// synchronously, either as it is (cleartext h2c, <see cref="OpenPlain"/>) or under TLS with ALPN
    /// "h2" (<see cref="OpenTls"/>, .NET 5+ only: netstandard2.0 has no ALPN API, so
    /// SslStream.AuthenticateAsClient(SslClientAuthenticationOptions) is found by reflection).
    /// Nothing here knows the service: etcd's gRPC snapshot is one user (<c>Etcd/EtcdGrpcSnapshot</c>).
    /// </summary>
    internal sealed class H2Connection : IDisposable
    {
        private const int ConnectTimeoutMs = 10_000;
        private const int HandshakeTimeoutMs = 10_000;
        private const int ReadTimeoutMs = 120_000;

        private static readonly TlsAlpn Alpn = TlsAlpn.Find();

        private readonly TcpClient _tcp;

        private H2Connection(TcpClient tcp, Stream stream, bool secure)
        {
            _tcp = tcp;
            Stream = stream;
            IsTls = secure;
        }

        /// <summary>The connection's bytes: the socket's NetworkStream, or the SslStream over it.</summary>
        public Stream Stream { get; }

        /// <summary>TLS (":scheme https") rather than cleartext.</summary>
        public bool IsTls { get; }

        /// <summary>This runtime can offer ALPN "h2" on an SslStream (.NET 5+; not .NET Framework).</summary>
        public static bool TlsAlpnSupported => Alpn != null;

        /// <summary>Closes the socket: the only way to interrupt a blocking read.</summary>
        public void Abort()
        {
            try { _tcp.Close(); } catch { }
        }

        public void Dispose()
        {
            try { Stream.Dispose(); } catch (IOException) { }
            _tcp.Dispose();
        }

        /// <summary>A cleartext connection for h2c with prior knowledge.</summary>
        public static H2Connection OpenPlain(Uri endpoint, CancellationToken ct)
        {
            var tcp = Connect(endpoint, ct);
            tcp.ReceiveTimeout = ReadTimeoutMs; // a stalled snapshot stream fails instead of hanging
            return new H2Connection(tcp, tcp.GetStream(), false);
        }

        /// <summary>
        /// A TLS connection on which the server agreed to HTTP/2. Returns null, with
        /// <paramref name="notH2"/> saying why, when the server did not choose "h2" (nothing was sent then).
        /// The server's certificate is checked exactly as <see cref="HttpClients.Handler"/> checks it
        /// (names must match; chain to the system's trust or, with a CA bundle's <paramref name="anchors"/>
        /// (<see cref="CaBundle.Anchors"/>; null: none), to one of its CAs); a certificate that fails is a
        /// <see cref="TlsRejectedException"/>, never a reason to try another way. <paramref name="clientCertificate"/>
        /// (null: none) is presented when the server asks. Load both before calling, so that unusable settings
        /// are reported as such rather than as a failed connection.
        /// </summary>
        public static H2Connection OpenTls(Uri endpoint, X509Certificate2Collection anchors, X509Certificate2 clientCertificate, CancellationToken ct, out string notH2)
        {
            notH2 = null;
            if (Alpn == null) throw new NotSupportedException("this runtime has no ALPN for SslStream");
            var tcp = Connect(endpoint, ct);
            SslStream ssl = null;
            try
            {
                string rejected = null;
                bool untrustedChain = false;
                RemoteCertificateValidationCallback validate = (sender, cert, chain, errors) =>
                {
                    if (CaBundle.Accepts(cert, errors, anchors)) return true;
                    rejected = Describe(errors, chain);
                    untrustedChain = (errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0;
                    return false;
                };
                ssl = new SslStream(tcp.GetStream(), false);
                object options = Alpn.Options(endpoint.IdnHost, clientCertificate, validate);
                // A synchronous handshake on the blocking socket (the socket must never see an asynchronous
                // operation, see Connect); a timer (and Ctrl+C) close the socket to bound the wait.
                bool timedOut = false;
                using (new Timer(_ => { timedOut = true; try { tcp.Close(); } catch { } }, null, HandshakeTimeoutMs, Timeout.Infinite))
                using (ct.Register(() => { try { tcp.Close(); } catch { } }))
                {
                    try { Alpn.Authenticate(ssl, options); }
                    catch (Exception) when (ct.IsCancellationRequested) { throw new OperationCanceledException(ct); }
                    catch (AuthenticationException ex) when (rejected != null)
                    {
                        throw new TlsRejectedException($"the server's certificate was rejected ({rejected})" +
                            (anchors == null && untrustedChain ? "; give the CA that signed it as -CaCertificatePath" : ""), ex);
                    }
                    catch (Exception) when (timedOut)
                    {
                        throw new IOException($"no TLS handshake with {endpoint.Host}:{endpoint.Port} within {HandshakeTimeoutMs / 1000} s");
                    }
                }
                tcp.ReceiveTimeout = ReadTimeoutMs;
                if (!Alpn.IsHttp2(ssl, out string protocol))
                {
                    notH2 = protocol.Length == 0 ? "the TLS server chose no application protocol (no ALPN h2)" : $"the TLS server chose '{protocol}' instead of h2";
                    ssl.Dispose();
                    tcp.Dispose();
                    return null;
                }
                return new H2Connection(tcp, ssl, true);
            }
            catch
            {
                ssl?.Dispose();
                tcp.Dispose();
                throw;
            }
        }

        private static TcpClient Connect(Uri endpoint, CancellationToken ct)
        {
            var tcp = new TcpClient { NoDelay = true, ReceiveBufferSize = 1 << 20 };
            try
            {
                // A blocking connect on purpose: once a .NET socket has done anything asynchronous, every
                // synchronous read is routed through its async engine, which cost 5× the CPU here. A timer
                // (and Ctrl+C) close the socket to bound the wait instead.
                bool timedOut = false;
                using (new Timer(_ => { timedOut = true; try { tcp.Close(); } catch { } }, null, ConnectTimeoutMs, Timeout.Infinite))
                using (ct.Register(() => { try { tcp.Close(); } catch { } }))
                {
                    try { tcp.Connect(endpoint.Host, endpoint.Port); }
                    catch (Exception) when (timedOut) { throw new IOException($"no TCP connection to {endpoint.Host}:{endpoint.Port} within {ConnectTimeoutMs / 1000} s"); }
                    catch (Exception) when (ct.IsCancellationRequested) { throw new OperationCanceledException(ct); }
                }
                return tcp;
            }
            catch
            {
                tcp.Dispose();
                throw;
            }
        }

        /// <summary>What was wrong with the server's certificate: the policy errors and the chain's status (no secrets in either).</summary>
        private static string Describe(SslPolicyErrors errors, X509Chain chain)
        {
            string text = errors.ToString();
            if (chain != null && chain.ChainStatus.Length > 0)
            {
                var statuses = new System.Collections.Generic.List<string>();
                foreach (var s in chain.ChainStatus)
                    if (s.Status != X509ChainStatusFlags.NoError && !statuses.Contains(s.Status.ToString())) statuses.Add(s.Status.ToString());
                if (statuses.Count > 0) text += ": " + string.Join(", ", statuses);
            }
            return text;
        }

        /// <summary>SslClientAuthenticationOptions, SslApplicationProtocol and the synchronous AuthenticateAsClient of .NET 5+, by reflection.</summary>
        private sealed class TlsAlpn
        {
            private Type _optionsType;
            private PropertyInfo _targetHost, _clientCertificates, _localSelection, _remoteValidation, _protocols, _negotiated;
            private MethodInfo _authenticate;
            private object _http2;
            private Type _listType;

            public static TlsAlpn Find()
            {
                try
                {
                    var assembly = typeof(SslStream).Assembly;
                    var optionsType = assembly.GetType("System.Net.Security.SslClientAuthenticationOptions");
                    var protocolType = assembly.GetType("System.Net.Security.SslApplicationProtocol");
                    if (optionsType == null || protocolType == null) return null;
                    var a = new TlsAlpn
                    {
                        _optionsType = optionsType,
                        _targetHost = optionsType.GetProperty("TargetHost"),
                        _clientCertificates = optionsType.GetProperty("ClientCertificates"),
                        _localSelection = optionsType.GetProperty("LocalCertificateSelectionCallback"),
                        _remoteValidation = optionsType.GetProperty("RemoteCertificateValidationCallback"),
                        _protocols = optionsType.GetProperty("ApplicationProtocols"),
                        _negotiated = typeof(SslStream).GetProperty("NegotiatedApplicationProtocol"),
                        // The synchronous overload is .NET 5+; .NET Core 2.1–3.1 has only the asynchronous one.
                        _authenticate = typeof(SslStream).GetMethod("AuthenticateAsClient", new[] { optionsType }),
                        _http2 = protocolType.GetField("Http2", BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                            ?? protocolType.GetProperty("Http2", BindingFlags.Public | BindingFlags.Static)?.GetValue(null),
                        _listType = typeof(System.Collections.Generic.List<>).MakeGenericType(protocolType),
                    };
                    if (a._targetHost == null || a._clientCertificates == null || a._localSelection == null || a._remoteValidation == null
                        || a._protocols == null || a._negotiated == null || a._authenticate == null || a._http2 == null
                        || a._protocols.PropertyType != a._listType)
                        return null;
                    return a;
                }
                catch (Exception) { return null; }
            }

            public object Options(string targetHost, X509Certificate2 clientCertificate, RemoteCertificateValidationCallback validate)
            {
                var o = Activator.CreateInstance(_optionsType);
                _targetHost.SetValue(o, targetHost);
                _remoteValidation.SetValue(o, validate);
                if (clientCertificate != null)
                {
                    _clientCertificates.SetValue(o, new X509CertificateCollection { clientCertificate });
                    // The certificate HttpClient would send (it ignores the server's list of acceptable issuers too).
                    LocalCertificateSelectionCallback select = (sender, host, local, remote, issuers) => clientCertificate;
                    _localSelection.SetValue(o, select);
                }
                var protocols = (IList)Activator.CreateInstance(_listType);
                protocols.Add(_http2);
                _protocols.SetValue(o, protocols);
                return o;
            }

            public void Authenticate(SslStream ssl, object options)
            {
                try { _authenticate.Invoke(ssl, new[] { options }); }
                catch (TargetInvocationException ex) when (ex.InnerException != null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                }
            }

            /// <summary>Whether the server chose "h2"; <paramref name="chosen"/> is what it chose ("" for none).</summary>
            public bool IsHttp2(SslStream ssl, out string chosen)
            {
                object value = _negotiated.GetValue(ssl);
                chosen = value?.ToString() ?? "";
                return _http2.Equals(value);
            }
        }
    }

    /// <summary>The server's TLS certificate failed the check: never a reason to try another transport.</summary>
    internal sealed class TlsRejectedException : AuthenticationException
    {
        public TlsRejectedException(string message, Exception inner) : base(message, inner) { }
    }
}
