using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ClusterDR
{
    /// <summary>
    /// Owner-only permissions on Unix (backups hold cluster secrets). netstandard2.0 has no API for
    /// it, so use File.SetUnixFileMode where the runtime has it (.NET 7+, i.e. PowerShell 7.4+) and
    /// libc's chmod otherwise. Windows keeps its inherited ACLs.
    /// </summary>
    public static class FileModes
    {
        private static readonly MethodInfo SetUnixFileMode =
            typeof(File).GetMethod("SetUnixFileMode", new[] { typeof(string), Type.GetType("System.IO.UnixFileMode") ?? typeof(object) });

        public static bool TrySetOwnerOnly(string path, bool directory = false)
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return true;
            int mode = directory ? Convert.ToInt32("700", 8) : Convert.ToInt32("600", 8);
            try
            {
                if (SetUnixFileMode != null)
                {
                    var enumType = SetUnixFileMode.GetParameters()[1].ParameterType;
                    SetUnixFileMode.Invoke(null, new[] { path, Enum.ToObject(enumType, mode) });
                    return true;
                }
                return chmod(path, mode) == 0;
            }
            catch
            {
                return false;
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(string path, int mode);
    }
}
