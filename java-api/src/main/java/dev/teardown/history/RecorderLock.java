package dev.teardown.history;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One recorder per history: an exclusive lock on {@code <database>.lock}, which holds the
 * recorder's pid so that a second one can say who has it. The operating system drops the lock
 * when its process dies, however it dies.
 */
final class RecorderLock implements AutoCloseable {
  private final FileChannel channel;
  private final Path made;  // the lock file, when this lock made it
  private final FileLock lock;

  private RecorderLock(FileChannel channel, FileLock lock, Path made) {
    this.made = made;
    this.channel = channel;
    this.lock = lock;
  }

  static Path lockFile(Path database) {
    return database.resolveSibling(database.getFileName() + ".lock");
  }

  static RecorderLock acquire(Path database) {
    Path path = lockFile(database);
    FileChannel channel = null;
    try {
      // The history's place first: a lock planted as a link must not be followed (and truncated).
      HistoryFile.checkPlace(database);
      boolean made = !Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      HistoryFile.createPrivately(path);
      channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
          java.nio.file.LinkOption.NOFOLLOW_LINKS);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;  // this very process records into it already
      }
      if (lock == null) {
        String holder = holder(channel);
        channel.close();
        throw new HistoryException(
            database,
            "already being recorded" + (holder.isEmpty() ? "" : " by process " + holder)
                + " (it holds " + path.getFileName() + "); one recorder per history");
      }
      byte[] pid = Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII);
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(pid), 0);
      channel.force(false);
      return new RecorderLock(channel, lock, made ? path : null);
    } catch (IOException e) {
      try {
        if (channel != null) {
          channel.close();
        }
      } catch (IOException ignored) {
        // reporting the first failure
      }
      throw new HistoryException(database, "cannot take the recorder's lock " + path + ": " + e.getMessage(), e);
    }
  }

  private static String holder(FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(32);
    channel.read(buffer, 0);
    String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).trim();
    return text.matches("[0-9]{1,19}") ? text : "";
  }

  /**
   * Lets go of the lock after the recorder could not start: the lock file goes too if this lock
   * made it, so that a refused database leaves nothing behind.
   */
  void abandon() {
    if (made != null) {
      try {
        Files.deleteIfExists(made);  // while still held: no other recorder has it
      } catch (IOException ignored) {
        // left behind: an empty lock file, harmless
      }
    }
    close();
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException ignored) {
      // the lock goes with the file handle anyway
    }
  }
}
