using System;
using System.IO;
using System.Reflection;
using ICSharpCode.SharpZipLib.Tar;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Extracts a backup's payload into a directory. Every name goes through ArchivePaths (no
    /// absolute paths, no "..", nothing that resolves outside the target) and every link must point
    /// inside the tree, checked before anything is written.
    /// </summary>
    public static class SafeExtractor
    {
        private static readonly MethodInfo CreateSymbolicLink = typeof(File).GetMethod("CreateSymbolicLink", new[] { typeof(string), typeof(string) });

        /// <summary>Extracts entries whose names start with <paramref name="prefix"/> (null: all), stripping the prefix.</summary>
        public static int ExtractTo(BackupArchiveReader reader, string targetDir, string prefix = null)
        {
            string root = Path.GetFullPath(targetDir);
            Directory.CreateDirectory(root);
            int count = 0;
            var buffer = new byte[1 << 16];
            reader.ForEachEntry((name, entry, content) =>
            {
                string rel = name;
                if (prefix != null)
                {
                    string p = prefix.TrimEnd('/') + "/";
                    if (!name.StartsWith(p, StringComparison.Ordinal)) return;
                    rel = name.Substring(p.Length);
                }
                string target = ArchivePaths.Resolve(root, rel);
                byte type = entry.TarHeader.TypeFlag;
                if (type == TarHeader.LF_DIR)
                {
                    Directory.CreateDirectory(target);
                }
                else if (type == TarHeader.LF_SYMLINK)
                {
                    ArchivePaths.CheckLinkTarget(root, rel, entry.TarHeader.LinkName);
                    if (CreateSymbolicLink == null)
                        throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.NotImplemented, $"This runtime cannot create the symbolic link '{rel}'.", rel);
                    Directory.CreateDirectory(Path.GetDirectoryName(target));
                    CreateSymbolicLink.Invoke(null, new object[] { target, entry.TarHeader.LinkName });
                }
                else if (type == TarHeader.LF_LINK)
                {
                    string source = ArchivePaths.Resolve(root, entry.TarHeader.LinkName);
                    Directory.CreateDirectory(Path.GetDirectoryName(target));
                    File.Copy(source, target);
                }
                else
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(target));
                    using (var f = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
                    {
                        int n;
                        while ((n = content.Read(buffer, 0, buffer.Length)) > 0) f.Write(buffer, 0, n);
                    }
                }
                count++;
            });
            return count;
        }
    }
}
