// One task: nothing to do.
exports.default = async () => ({ success: true });
