// core/launch/launcher.h find_program: where the launcher finds the rank programs of worker/ and
// the CLI. In a build tree they sit in <build>/worker/ and <build>/cli/, found from any sibling
// folder (cli/, gui/) or from one level deeper (tests/core/); $SCALESCOPE_WORKER and
// $SCALESCOPE_CALIBRATE_RANK come first; PATH is the fallback of an installed layout.
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <sys/stat.h>

#include "core/launch/launcher.h"

using namespace ss::core;
namespace fs = std::filesystem;

namespace {

// Restores an environment variable when the test ends.
class EnvGuard {
public:
    explicit EnvGuard(const char* name)
        : name_(name), had_(qEnvironmentVariableIsSet(name)), old_(qgetenv(name)) {}
    ~EnvGuard() {
        if (had_)
            qputenv(name_, old_);
        else
            qunsetenv(name_);
    }
    EnvGuard(const EnvGuard&) = delete;
    EnvGuard& operator=(const EnvGuard&) = delete;

private:
    const char* name_;
    bool had_;
    QByteArray old_;
};

std::string normalized(const fs::path& p) {
    return fs::weakly_canonical(p).string();
}

}  // namespace

class TestFindProgram : public QObject {
    Q_OBJECT

private slots:
    void rankProgramsInTheWorkerFolder_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("folder");
        QTest::newRow("worker") << QStringLiteral("scalescope-worker") << QStringLiteral("worker");
        QTest::newRow("calibrate rank")
            << QStringLiteral("scalescope-calibrate-rank") << QStringLiteral("worker");
        QTest::newRow("cli") << QStringLiteral("scalescope-cli") << QStringLiteral("cli");
    }
    void rankProgramsInTheWorkerFolder() {
        QFETCH(QString, name);
        QFETCH(QString, folder);
        EnvGuard w("SCALESCOPE_WORKER"), c("SCALESCOPE_CALIBRATE_RANK");
        qunsetenv("SCALESCOPE_WORKER");
        qunsetenv("SCALESCOPE_CALIBRATE_RANK");
        const fs::path expected =
            fs::path(SCALESCOPE_BINARY_DIR) / folder.toStdString() / name.toStdString();
        QVERIFY2(fs::exists(expected), expected.c_str());
        std::string found;
        try {
            found = find_program(name.toStdString());
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        QCOMPARE(QString::fromStdString(normalized(found)),
                 QString::fromStdString(normalized(expected)));
    }

    void environmentVariableComesFirst() {
        EnvGuard w("SCALESCOPE_WORKER");
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const fs::path fake = fs::path(tmp.path().toStdString()) / "my-worker";
        std::ofstream(fake) << "#!/bin/sh\n";
        QCOMPARE(::chmod(fake.c_str(), 0755), 0);
        qputenv("SCALESCOPE_WORKER", QByteArray(fake.c_str()));
        QCOMPARE(QString::fromStdString(find_program("scalescope-worker")),
                 QString::fromStdString(fake.string()));

        const fs::path not_executable = fs::path(tmp.path().toStdString()) / "plain";
        std::ofstream(not_executable) << "x";
        qputenv("SCALESCOPE_WORKER", QByteArray(not_executable.c_str()));
        try {
            find_program("scalescope-worker");
            QFAIL("a file that is not executable was accepted");
        } catch (const std::runtime_error& e) {
            QVERIFY2(std::string(e.what()).find("SCALESCOPE_WORKER=" + not_executable.string()) !=
                         std::string::npos,
                     e.what());
        }
    }

    // An installed layout: not in a build tree, found through PATH.
    void installedProgramThroughPath() {
        EnvGuard path("PATH");
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const fs::path bin = fs::path(tmp.path().toStdString()) / "bin";
        fs::create_directories(bin);
        const fs::path tool = bin / "scalescope-test-only-tool";
        std::ofstream(tool) << "#!/bin/sh\n";
        QCOMPARE(::chmod(tool.c_str(), 0755), 0);
        qputenv("PATH", QByteArray(bin.c_str()) + ':' + qgetenv("PATH"));
        QCOMPARE(QString::fromStdString(find_program("scalescope-test-only-tool")),
                 QString::fromStdString(tool.string()));
    }

    void missingProgramNamesWhereItLooked() {
        try {
            find_program("scalescope-no-such-program");
            QFAIL("a missing program was found");
        } catch (const std::runtime_error& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("cannot find scalescope-no-such-program") != std::string::npos,
                     e.what());
            QVERIFY2(msg.find("/worker/scalescope-no-such-program") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestFindProgram)
#include "tst_core_find_program.moc"
