using System;
using System.Runtime.InteropServices;
using System.Security;

namespace ClusterDR
{
    /// <summary>
    /// The one place a secret (a SecureString: ACS token, unlock key, S3 secret key) becomes text and text becomes
    /// a secret. Call <see cref="Plain"/> at the moment the text is needed (a request header, a signer, a process's
    /// stdin) and never put its result into an exception message, verbose output or a command line.
    /// </summary>
    public static class Secrets
    {
        /// <summary>The text of <paramref name="secret"/> (null for null); the unmanaged copy is zeroed and freed.</summary>
        public static string Plain(SecureString secret)
        {
            if (secret == null) return null;
            IntPtr p = IntPtr.Zero;
            try { p = Marshal.SecureStringToGlobalAllocUnicode(secret); return Marshal.PtrToStringUni(p); }
            finally { if (p != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(p); }
        }

        /// <summary>A read-only SecureString holding <paramref name="text"/> (null for null).</summary>
        public static SecureString Secure(string text)
        {
            if (text == null) return null;
            var secure = new SecureString();
            foreach (char c in text) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }
    }
}
