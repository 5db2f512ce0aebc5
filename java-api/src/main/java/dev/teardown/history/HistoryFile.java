package dev.teardown.history;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteOpenMode;
import org.sqlite.SQLiteException;

/**
 * Opening a history database: recognising it as ours, of a schema this code knows, and sound,
 * and making a new one. Every failure is a {@link HistoryException} that names the file.
 */
final class HistoryFile {
  /** {@code PRAGMA application_id} of a Teardown history: "TDH1". */
  static final int APPLICATION_ID = 0x54444831;
  /**
   * The schema this code writes ({@code PRAGMA user_version}). 2: a ring has a position per lane,
   * so positions are no longer one row per ring. 3: an end's kernel state. 4: the packed timeline
   * carries the program's error and the kernel's view. 5: a gap says whose rings lost the events.
   * A recorder opening an older history upgrades it; readers read every one as it is.
   */
  static final int SCHEMA = 5;

  private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private static final String POSITIONS_TABLE =
      "CREATE TABLE positions(ring TEXT NOT NULL, generation INTEGER NOT NULL, next_sequence INTEGER NOT NULL)";
  private static final String POSITIONS_INDEX = "CREATE INDEX positions_ring ON positions(ring)";

  private static final String[] TABLES = {
    // One row per connection end, its events packed in order (see Timeline).
    """
    CREATE TABLE ends(
      id INTEGER PRIMARY KEY,
      user TEXT NOT NULL,
      pid INTEGER NOT NULL,
      process TEXT NOT NULL,
      socket_id INTEGER NOT NULL,
      protocol INTEGER NOT NULL,
      socket_type INTEGER NOT NULL,
      local_addr TEXT,
      local_port INTEGER,
      remote_addr TEXT,
      remote_port INTEGER,
      first_ns INTEGER NOT NULL,
      last_ns INTEGER NOT NULL,
      state INTEGER NOT NULL,
      lifetime_ns INTEGER,
      bytes_sent INTEGER,
      bytes_received INTEGER,
      first_shutdown TEXT,
      ending TEXT,
      first_seq INTEGER NOT NULL,
      event_count INTEGER NOT NULL,
      events BLOB NOT NULL,
      kernel_state TEXT)""",
    "CREATE INDEX ends_last ON ends(last_ns)",
    "CREATE INDEX ends_local_port ON ends(local_port, local_addr)",
    "CREATE INDEX ends_remote_port ON ends(remote_port)",
    "CREATE TABLE gaps(id INTEGER PRIMARY KEY, after_ns INTEGER NOT NULL, before_ns INTEGER NOT NULL, lost INTEGER NOT NULL,"
        + " user TEXT)",
    "CREATE INDEX gaps_before ON gaps(before_ns)",
    // One row per lane of each ring read (a lane is named by its sequences).
    POSITIONS_TABLE,
    POSITIONS_INDEX,
    "CREATE TABLE recorder(key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
  };

  private HistoryFile() {}

  /**
   * Opens {@code file}. With {@code create}, a missing or empty file becomes a new history;
   * otherwise a missing file is an error. With {@code check}, the whole file is checked for damage
   * first (what a recorder does before it writes).
   */
  static Connection open(Path file, boolean create, boolean check) {
    boolean fresh;
    try {
      checkPlace(file);
      if (!Files.exists(file) && !Files.notExists(file)) {
        throw new java.nio.file.AccessDeniedException(file.toString());  // a directory on the way is closed to us
      }
      fresh = !Files.exists(file) || Files.size(file) == 0;
      if (fresh && !create) {
        throw new HistoryException(file, "no history here (start one with `teardown record`)");
      }
      if (!fresh && !startsLikeSqlite(file)) {
        throw new HistoryException(file, "not a Teardown history: the file is not an SQLite database");
      }
      if (fresh) {
        createPrivately(file);
        checkPlace(file);  // made here, or planted in the moment before: whose is it now?
      }
    } catch (java.nio.file.AccessDeniedException e) {
      throw new HistoryException(file, "not yours to read: a history holds every user's connections,"
          + " and only its owner (an administrator, for the system's) reads it", e);
    } catch (IOException e) {
      throw new HistoryException(file, "cannot be read: " + e.getMessage(), e);
    }
    if (!create) {
      return openForReading(file);
    }
    Connection connection = null;
    try {
      connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
      try (Statement statement = connection.createStatement()) {
        statement.execute("PRAGMA busy_timeout = 5000");
        if (fresh) {
          initialise(statement);
        } else {
          int schema = recognise(file, statement);
          if (check) {
            checkSound(file, statement);
          }
          if (schema < SCHEMA && create) {
            upgrade(statement, schema);
          }
        }
      }
      return connection;
    } catch (SQLException e) {
      closeQuietly(connection);
      throw failure(file, e);
    } catch (RuntimeException e) {
      closeQuietly(connection);
      throw e;
    }
  }

  /**
   * {@code file} opened read-only, as a reader opens it: nothing in it is changed (SQLite may leave
   * the write-ahead log's two files beside it, as any reader of such a database does). A
   * history on a read-only disk (a copy on a DVD, a snapshot, a read-only mount) has no
   * write-ahead log index SQLite could make: there it is opened as immutable, as a file nobody
   * writes while it is read, which only such a place can promise.
   */
  private static Connection openForReading(Path file) {
    try {
      return readingAt(file, "jdbc:sqlite:" + file.toAbsolutePath());
    } catch (SQLException e) {
      if (!unwritablePlace(file) || !cannotOpen(e)) {
        throw failure(file, e);
      }
    }
    try {
      return readingAt(file, "jdbc:sqlite:" + file.toAbsolutePath().toUri() + "?immutable=1");
    } catch (SQLException e) {
      throw failure(file, e);
    }
  }

  /** A read-only connection to {@code url}, once the file is known to be a history. */
  private static Connection readingAt(Path file, String url) throws SQLException {
    Connection connection = readOnly(url);
    try {
      recogniseOn(file, connection);
      return connection;
    } catch (SQLException | RuntimeException e) {
      closeQuietly(connection);
      throw e;
    }
  }

  private static Connection readOnly(String url) throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setOpenMode(SQLiteOpenMode.OPEN_URI);
    config.setBusyTimeout(5000);
    return DriverManager.getConnection(url, config.toProperties());
  }

  private static void recogniseOn(Path file, Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      recognise(file, statement);
    }
  }

  private static boolean cannotOpen(SQLException e) {
    if (!(e instanceof SQLiteException sqlite)) {
      return false;
    }
    int primary = sqlite.getResultCode().code & 0xFF;
    return primary == SQLiteErrorCode.SQLITE_CANTOPEN.code || primary == SQLiteErrorCode.SQLITE_READONLY.code;
  }

  /** Whether nothing beside {@code file} can be written: a read-only file system or folder. */
  private static boolean unwritablePlace(Path file) {
    Path absolute = file.toAbsolutePath();
    try {
      return Files.getFileStore(absolute).isReadOnly() || !Files.isWritable(absolute.getParent());
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * What SQLite (and the recorder's lock) keeps beside a database: each must be the database
   * owner's as much as the database.
   */
  private static final String[] SIDE_FILES = {"-wal", "-shm", "-journal", ".lock"};

  /**
   * Refuses a history in a folder other users can write unless the folder is the caller's own and
   * sticky (nobody else can rename or remove what is in it) and the history, with the files SQLite
   * keeps beside it, is the caller's: no link (a link planted there would take the history
   * elsewhere), no file another user made in advance (they could read or rewrite it). POSIX file
   * systems only; Windows folders' ACLs are the installer's.
   */
  static void checkPlace(Path file) throws IOException {
    Path absolute = file.toAbsolutePath();
    Path parent = absolute.getParent();
    if (parent == null || !absolute.getFileSystem().supportedFileAttributeViews().contains("unix")
        || !Files.isDirectory(parent)) {
      return;
    }
    int folderMode = (Integer) Files.getAttribute(parent, "unix:mode");
    if ((folderMode & 0022) == 0) {
      return;  // nobody else can add, rename or remove a name in it
    }
    int caller = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    int folderOwner = (Integer) Files.getAttribute(parent, "unix:uid");
    if (folderOwner != caller || (folderMode & 01000) == 0) {
      throw new HistoryException(file, "its folder " + parent + " can be written by other users"
          + (folderOwner != caller ? " and is not yours" : " and is not sticky")
          + ", who could put a history of their own or a link in its place: keep the history in a folder of your own");
    }
    java.util.List<String> suffixes = new java.util.ArrayList<>(java.util.List.of(SIDE_FILES));
    suffixes.add(0, "");
    for (String suffix : suffixes) {
      Path one = Path.of(absolute + suffix);
      if (!Files.exists(one, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      if (Files.isSymbolicLink(one) || !Files.isRegularFile(one, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new HistoryException(file, one + " is a link or not a file, in a folder other users can write:"
            + " it is not used (someone may have planted it)");
      }
      int owner = (Integer) Files.getAttribute(one, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
      if (owner != caller) {
        throw new HistoryException(file, one + " belongs to another user, in a folder other users can write:"
            + " it is not used (they could read or rewrite the history)");
      }
    }
  }

  /**
   * Makes {@code file} (empty) and its missing directories readable by their owner only, where
   * the file system has POSIX permissions: a history holds every user's connections, as the
   * rings it comes from are each readable by their user and administrators only. SQLite gives
   * its write-ahead log and shared-memory files the database's mode. A file or directory that is
   * already there keeps its permissions.
   */
  static void createPrivately(Path file) throws IOException {
    Path absolute = file.toAbsolutePath();
    boolean posix = absolute.getFileSystem().supportedFileAttributeViews().contains("posix");
    Path parent = absolute.getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      java.util.List<Path> missing = new java.util.ArrayList<>();
      for (Path dir = parent; dir != null && !Files.exists(dir); dir = dir.getParent()) {
        missing.add(0, dir);
      }
      for (Path dir : missing) {
        if (posix) {
          Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } else {
          Files.createDirectory(dir);
        }
      }
    }
    if (!Files.exists(absolute)) {
      try {
        if (posix) {
          Files.createFile(absolute, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        } else {
          Files.createFile(absolute);
        }
      } catch (java.nio.file.FileAlreadyExistsException raced) {
        // made meanwhile: used as it is
      }
    }
  }

  private static boolean startsLikeSqlite(Path file) throws IOException {
    byte[] header = new byte[SQLITE_HEADER.length];
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(header, 0, header.length) == header.length && Arrays.equals(header, SQLITE_HEADER);
    }
  }

  private static void initialise(Statement statement) throws SQLException {
    // Before any table. Large pages: fewer of them split and written per commit. No
    // auto-vacuum (it costs every insert): the pages retention frees are reused by what is
    // recorded next, so the file stays at the size retention allows.
    statement.execute("PRAGMA page_size = 16384");
    statement.execute("PRAGMA auto_vacuum = NONE");
    statement.execute("PRAGMA journal_mode = WAL");
    statement.execute("BEGIN IMMEDIATE");
    for (String table : TABLES) {
      statement.execute(table);
    }
    statement.execute("PRAGMA application_id = " + APPLICATION_ID);
    statement.execute("PRAGMA user_version = " + SCHEMA);
    statement.execute("COMMIT");
  }

  /**
   * From an older schema to this one, all or nothing: from 1 (one position per ring) to 2, the
   * positions carry over; from 2 to 3, ends gain the kernel's state at close (null in older rows);
   * from 3 to 4 nothing changes in the tables: events packed since may carry the program's own
   * error number and the kernel's view (see {@link Timeline}), which a reader of 3 would not read.
   */
  private static void upgrade(Statement statement, int schema) throws SQLException {
    statement.execute("BEGIN IMMEDIATE");
    try {
      if (schema < 2) {
        statement.execute("ALTER TABLE positions RENAME TO positions_1");
        statement.execute(POSITIONS_TABLE);
        statement.execute(POSITIONS_INDEX);
        statement.execute("INSERT INTO positions(ring, generation, next_sequence)"
            + " SELECT ring, generation, next_sequence FROM positions_1");
        statement.execute("DROP TABLE positions_1");
      }
      if (schema < 3) {
        statement.execute("ALTER TABLE ends ADD COLUMN kernel_state TEXT");
      }
      if (schema < 5) {
        statement.execute("ALTER TABLE gaps ADD COLUMN user TEXT");  // whose rings lost the events
      }
      statement.execute("PRAGMA user_version = " + SCHEMA);
      statement.execute("COMMIT");
    } catch (SQLException e) {
      statement.execute("ROLLBACK");
      throw e;
    }
  }

  /** The schema of an open history (its {@code user_version}). */
  static int schema(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      return intPragma(statement, "user_version");
    }
  }

  private static int recognise(Path file, Statement statement) throws SQLException {
    int application = intPragma(statement, "application_id");
    int schema = intPragma(statement, "user_version");
    if (application != APPLICATION_ID) {
      throw new HistoryException(file, "not a Teardown history: an SQLite database of another application");
    }
    if (schema > SCHEMA) {
      throw new HistoryException(
          file,
          "written by a newer Teardown (history schema " + schema + "; this one knows " + SCHEMA
              + "): use that version, or record into another file");
    }
    if (schema < 1) {
      throw new HistoryException(file, "history schema " + schema + " is not one this Teardown knows");
    }
    return schema;
  }

  private static void checkSound(Path file, Statement statement) throws SQLException {
    try (ResultSet result = statement.executeQuery("PRAGMA quick_check(1)")) {
      String verdict = result.next() ? result.getString(1) : "no answer";
      if (!"ok".equals(verdict)) {
        throw new HistoryException(file, "damaged (" + verdict + "): move it aside and record into a new file");
      }
    }
  }

  private static int intPragma(Statement statement, String name) throws SQLException {
    try (ResultSet result = statement.executeQuery("PRAGMA " + name)) {
      return result.next() ? result.getInt(1) : 0;
    }
  }

  /** What an SQLite failure means for the history in {@code file}. */
  static HistoryException failure(Path file, SQLException e) {
    if (e instanceof SQLiteException sqlite) {
      SQLiteErrorCode code = sqlite.getResultCode();
      int primary = code.code & 0xFF;
      if (primary == SQLiteErrorCode.SQLITE_NOTADB.code) {
        return new HistoryException(file, "not a Teardown history: the file is not an SQLite database", e);
      }
      if (primary == SQLiteErrorCode.SQLITE_CORRUPT.code) {
        return new HistoryException(file, "damaged: move it aside and record into a new file", e);
      }
      if (primary == SQLiteErrorCode.SQLITE_BUSY.code || primary == SQLiteErrorCode.SQLITE_LOCKED.code) {
        return new HistoryException(file, "locked by another program for more than 5 s", e);
      }
      if (primary == SQLiteErrorCode.SQLITE_READONLY.code || primary == SQLiteErrorCode.SQLITE_PERM.code
          || primary == SQLiteErrorCode.SQLITE_CANTOPEN.code) {
        return new HistoryException(file, "cannot be opened for writing: " + e.getMessage(), e);
      }
      if (primary == SQLiteErrorCode.SQLITE_FULL.code) {
        return new HistoryException(file, "the disk is full", e);
      }
    }
    return new HistoryException(file, e.getMessage(), e);
  }

  static void closeQuietly(Connection connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // closing after a failure: the failure is what is reported
      }
    }
  }
}
